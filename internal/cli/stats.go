package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/kinds"
)

// kindStats is one row of `flux stats`.
type kindStats struct {
	kind                      string
	total, failing, suspended int
	storage                   int64
}

func newStatsCommand(f *Factory) *cobra.Command {
	var allNamespaces bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Stats of Flux reconciles",
		Long: "Stats prints, for every kind of Flux resource, how many objects there are and run (RUNNING: not\n" +
			"suspended), how many are failing (Ready=False) and suspended, and for sources the storage their\n" +
			"artifacts take (the sum of status.artifact.size). Kinds whose CRD is not installed count zero.",
		Example: `  # The stats of the current namespace
  flux stats

  # The stats of the whole cluster
  flux stats -A`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			var opts []client.ListOption
			if !allNamespaces {
				ns, err := f.Namespace()
				if err != nil {
					return err
				}
				opts = append(opts, client.InNamespace(ns))
			}
			tw := newTabWriter(f.Out)
			writeRow(tw, "RECONCILERS", "RUNNING", "FAILING", "SUSPENDED", "STORAGE")
			for _, k := range kinds.All() {
				s := kindStats{kind: k.Kind}
				list := k.NewList()
				if err := c.List(cmd.Context(), list, opts...); err != nil {
					if !apimeta.IsNoMatchError(err) {
						return fmt.Errorf("listing %s objects: %w", k.Kind, err)
					}
				} else if err := s.add(cmd.Context(), c, k, k.Items(list)); err != nil {
					return err
				}
				writeRow(tw, s.kind, strconv.Itoa(s.total-s.suspended), strconv.Itoa(s.failing),
					strconv.Itoa(s.suspended), formatStorage(s.storage))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "count the objects of every namespace")
	return cmd
}

// add counts objs.
func (s *kindStats) add(ctx context.Context, c client.Reader, k kinds.Kind, objs []kinds.Object) error {
	for _, o := range objs {
		s.total++
		if k.IsSuspended(o) {
			s.suspended++
		}
		if ready := readyCondition(ctx, c, k, o); ready != nil && ready.Status == metav1.ConditionFalse {
			s.failing++
		}
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return fmt.Errorf("reading %s %s/%s: %w", s.kind, o.GetNamespace(), o.GetName(), err)
		}
		if size, ok, _ := unstructured.NestedInt64(u, "status", "artifact", "size"); ok {
			s.storage += size
		}
	}
	return nil
}

// formatStorage writes a byte count as Flux's stats do: "-" for none, then
// B, KiB, MiB ... with one decimal.
func formatStorage(b int64) string {
	if b == 0 {
		return "-"
	}
	return kinds.Size(b)
}
