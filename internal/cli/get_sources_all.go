package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/kinds"
)

// addGetSourcesAll adds `flux get sources all` to the `get sources` group of
// get, when the catalogue has source kinds.
func addGetSourcesAll(get *cobra.Command, f *Factory, o *getOptions) {
	if sources := subcommandNamed(get, "sources"); sources != nil {
		sources.AddCommand(newGetSourcesAllCommand(f, o, catalogueSourceKinds))
	}
}

// catalogueSourceKinds are the catalogue's kinds under `flux <verb> source`.
func catalogueSourceKinds() []kinds.Kind {
	var out []kinds.Kind
	for _, k := range kinds.All() {
		if k.Command.Group == "source" {
			out = append(out, k)
		}
	}
	return out
}

// newGetSourcesAllCommand is `flux get sources all`: one table per source
// kind that has objects, rows named kind/name as in `get all`. A kind whose
// CRD is not installed is left out without a word, as Flux does.
// sources are the kinds it lists.
func newGetSourcesAllCommand(f *Factory, o *getOptions, sources func() []kinds.Kind) *cobra.Command {
	var names, watches []string
	for _, k := range sources() {
		names = append(names, k.Kind)
		watches = append(watches, "flux get "+k.Command.GetPath()+" -w")
	}
	return &cobra.Command{
		Use:   "all",
		Short: "Get the status of every source: " + strings.Join(names, ", "),
		Example: `  # Every source of the current namespace
  flux get sources all

  # Every source that is not ready, in any namespace
  flux get sources all -A --status-selector ready=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.watch {
				return fmt.Errorf("--watch needs one kind: use %s", strings.Join(watches, " or "))
			}
			g, err := newGetter(f, o, "")
			if err != nil {
				return err
			}
			return g.printAll(cmd.Context(), f.Err, sources(), "no sources")
		},
	}
}

// printAll prints every object of ks: one table per kind that has objects
// (rows named kind/name), or all of them in one -o document. A kind whose
// CRD is not installed is left out without a word, as Flux does; none says
// what was not found when nothing was ("no sources").
func (g *getter) printAll(ctx context.Context, errOut io.Writer, ks []kinds.Kind, none string) error {
	var all []client.Object
	tables := 0
	for _, k := range ks {
		objs, err := g.list(ctx, k)
		if apimeta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return err
		}
		all = append(all, objs...)
		if !g.tabular() || len(objs) == 0 {
			continue
		}
		if tables > 0 {
			fmt.Fprintln(g.out)
		}
		tables++
		if err := g.table(ctx, g.out, k, objs, true); err != nil {
			return err
		}
	}
	if g.tabular() {
		if tables == 0 {
			fmt.Fprintf(errOut, "%s found in %s\n", none, g.where())
		}
		return nil
	}
	return printObjects(g.out, g.client.Scheme(), g.output, all, false)
}
