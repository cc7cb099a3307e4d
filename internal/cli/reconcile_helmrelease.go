package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/kinds"
)

// reconcileHelmReleaseOptions are the flags of `flux reconcile helmrelease`.
type reconcileHelmReleaseOptions struct {
	withSource, force, reset bool
}

// newReconcileHelmReleaseCommand is `flux reconcile helmrelease NAME`: the
// kind's reconcile command with Flux's --force and --reset, and a
// --with-source that reconciles the chart (its source, then the HelmChart)
// before the release, as Flux does.
func newReconcileHelmReleaseCommand(f *Factory, k kinds.Kind) *cobra.Command {
	o := &reconcileHelmReleaseOptions{}
	cmd := &cobra.Command{
		Use:     k.Command.Name + " NAME",
		Aliases: k.Command.Aliases,
		Short:   "Reconcile a HelmRelease resource",
		Long: `The reconcile helmrelease command triggers a reconciliation of a HelmRelease resource and waits for it to finish.
--force makes the controller install or upgrade the release even when nothing changed (reconcile.fluxcd.io/forceAt);
--reset resets its failure counters, so a release that ran out of retries tries again (reconcile.fluxcd.io/resetAt).`,
		Example: k.Examples["reconcile"],
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := checkName(args, "reconcile "+k.Command.Path())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			c, ns, err := clientAndNamespace(f)
			if err != nil {
				return err
			}
			key := client.ObjectKey{Namespace: ns, Name: name}
			hr := &helmv2.HelmRelease{}
			if err := c.Get(ctx, key, hr); err != nil {
				return notFoundHint(err, k, name, ns)
			}
			if hr.Spec.Suspend {
				return fmt.Errorf("%s %s is suspended: resume it first with 'flux resume %s %s -n %s'",
					k.Kind, key, k.Command.Path(), name, ns)
			}
			if o.withSource {
				if err := reconcileHelmReleaseChart(ctx, f, hr); err != nil {
					return err
				}
			}
			p := progress{f.Err}
			p.action("annotating %s %s in %s namespace", k.Kind, name, ns)
			token := requestToken()
			var extra []string
			if o.force {
				extra = append(extra, meta.ForceRequestAnnotation)
			}
			if o.reset {
				extra = append(extra, meta.ResetRequestAnnotation)
			}
			patch := kinds.RequestPatch(token, extra...)
			if err := c.Patch(ctx, hr, client.RawPatch("application/merge-patch+json", patch)); err != nil {
				return fmt.Errorf("annotate %s %s: %w", k.Kind, key, err)
			}
			p.success("%s annotated", k.Kind)
			p.waiting("waiting for %s reconciliation", k.Kind)
			wctx, cancel := f.withTimeout(ctx)
			defer cancel()
			got, err := waitFor(wctx, c, k, key, helmReleaseHandled(k, token, o.force, o.reset))
			if err != nil {
				return err
			}
			p.success("%s reconciliation completed", k.Kind)
			if line := k.OutcomeOf(got); line != "" {
				p.success("%s", line)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.withSource, "with-source", false, "reconcile HelmRelease source")
	cmd.Flags().BoolVar(&o.force, "force", false, "force a one-off install or upgrade of the HelmRelease resource")
	cmd.Flags().BoolVar(&o.reset, "reset", false, "reset the retry counter for the HelmRelease resource")
	return cmd
}

// helmReleaseHandled is the readiness of a HelmRelease after request token:
// the controller handled the reconcile request and, with force or reset,
// the forceAt or resetAt request of the same token, and the release is
// Ready (or failed).
func helmReleaseHandled(k kinds.Kind, token string, force, reset bool) readiness {
	ready := readyAfter(k, token)
	return func(obj meta.Object) (bool, error) {
		hr, ok := obj.(*helmv2.HelmRelease)
		if !ok {
			return false, nil
		}
		if (force && hr.Status.LastHandledForceAt != token) || (reset && hr.Status.LastHandledResetAt != token) {
			return false, nil
		}
		return ready(obj)
	}
}

// reconcileHelmReleaseChart reconciles where hr's chart comes from, as
// Flux's --with-source: the HelmChart (generated from spec.chart, or named
// by a HelmChart chartRef) after its own source, or else the chartRef
// object (an OCIRepository).
func reconcileHelmReleaseChart(ctx context.Context, f *Factory, hr *helmv2.HelmRelease) error {
	chart, ok := kinds.HelmReleaseChart(hr)
	if !ok {
		ref := kinds.HelmReleaseSource(hr)
		src, known := kinds.ByGroupKind(ref.GroupKind())
		if !known {
			return fmt.Errorf("reconciling a %s chart source is not supported; run without --with-source", ref.Kind)
		}
		return reconcileIn(ctx, f, src, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name})
	}
	ck := kinds.HelmChart()
	c, err := f.Client()
	if err != nil {
		return err
	}
	key := client.ObjectKey{Namespace: chart.Namespace, Name: chart.Name}
	obj := ck.New()
	if err := c.Get(ctx, key, obj); err != nil {
		return fmt.Errorf("the HelmChart %s of HelmRelease %s/%s cannot be read (the controller makes it from spec.chart "+
			"on its first reconciliation; run without --with-source until then): %w", key, hr.Namespace, hr.Name, err)
	}
	ref := ck.Source(obj)
	src, known := kinds.ByGroupKind(ref.GroupKind())
	if !known {
		return fmt.Errorf("reconciling a %s chart source is not supported; run without --with-source", ref.Kind)
	}
	if err := reconcileIn(ctx, f, src, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}); err != nil {
		return err
	}
	return reconcileIn(ctx, f, ck, key)
}
