package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/kinds"
)

func newReconcileCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Reconcile sources and resources now",
	}
	addKindCommands(cmd, func(group string) *cobra.Command {
		return &cobra.Command{Use: group, Short: "Reconcile " + group + "s now"}
	}, func(k kinds.Kind) *cobra.Command {
		if k.NotReconciled || k.ReadOnly {
			return nil // Alerts, Providers, ExternalArtifacts, ArtifactGenerators: Flux has no reconcile command for them
		}
		if k.GroupKind() == kinds.HelmRelease().GroupKind() {
			return newReconcileHelmReleaseCommand(f, k) // --force, --reset
		}
		return newReconcileKindCommand(f, k)
	})
	return cmd
}

// newReconcileKindCommand is `flux reconcile <kind> NAME`, with
// --with-source for a kind that reads a source.
func newReconcileKindCommand(f *Factory, k kinds.Kind) *cobra.Command {
	var withSource bool
	cmd := &cobra.Command{
		Use:     k.Command.Name + " NAME",
		Aliases: k.Command.Aliases,
		Short:   "Reconcile " + withArticle(k.Command.Noun) + " now",
		Example: k.Examples["reconcile"],
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := checkName(args, "reconcile "+k.Command.Path())
			if err != nil {
				return err
			}
			if withSource {
				if err := reconcileSourceOf(cmd.Context(), f, k, name); err != nil {
					return err
				}
			}
			return reconcileNamed(cmd.Context(), f, k, name)
		},
	}
	if k.Source != nil {
		cmd.Flags().BoolVar(&withSource, "with-source", false, "reconcile "+k.Kind+" source")
	}
	return cmd
}

// reconcileSourceOf reconciles the source the named object reads from.
func reconcileSourceOf(ctx context.Context, f *Factory, k kinds.Kind, name string) error {
	c, ns, err := clientAndNamespace(f)
	if err != nil {
		return err
	}
	obj := k.New()
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		return notFoundHint(err, k, name, ns)
	}
	ref := k.Source(obj)
	src, ok := kinds.ByGroupKind(ref.GroupKind())
	if !ok {
		return fmt.Errorf("reconciling a %s source is not supported yet; run without --with-source", ref.Kind)
	}
	return reconcileIn(ctx, f, src, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name})
}

func reconcileNamed(ctx context.Context, f *Factory, k kinds.Kind, name string) error {
	ns, err := f.Namespace()
	if err != nil {
		return err
	}
	return reconcileIn(ctx, f, k, client.ObjectKey{Namespace: ns, Name: name})
}

// reconcileIn asks the controller to reconcile the object now (the
// requestedAt annotation, by merge patch), waits until the controller has
// handled that request and the object is Ready, and prints the revision.
func reconcileIn(ctx context.Context, f *Factory, k kinds.Kind, key client.ObjectKey) error {
	c, err := f.Client()
	if err != nil {
		return err
	}
	obj := k.New()
	if err := c.Get(ctx, key, obj); err != nil {
		return notFoundHint(err, k, key.Name, key.Namespace)
	}
	if k.IsSuspended(obj) {
		return fmt.Errorf("%s %s is suspended: resume it first with 'flux resume %s %s -n %s'",
			k.Kind, key, k.Command.Path(), key.Name, key.Namespace)
	}
	p := progress{f.Err}
	if isStatic(k, obj) {
		// As Flux: no controller reconciles it, so there is nothing to ask.
		p.success("reconciliation not supported by the object")
		return nil
	}
	p.action("annotating %s %s in %s namespace", k.Kind, key.Name, key.Namespace)
	token, err := requestReconcile(ctx, c, obj)
	if err != nil {
		return fmt.Errorf("annotate %s %s: %w", k.Kind, key, err)
	}
	p.success("%s annotated", k.Kind)
	return waitReconciled(ctx, f, c, k, key, token)
}

// requestReconcile sets reconcile.fluxcd.io/requestedAt by merge patch and
// returns its value.
func requestReconcile(ctx context.Context, c client.Client, obj kinds.Object) (string, error) {
	token := requestToken()
	return token, c.Patch(ctx, obj, client.RawPatch("application/merge-patch+json", kinds.RequestPatch(token)))
}

// waitReconciled waits, bounded by --timeout, until the controller has
// handled request token and the object is Ready, and prints the revision.
func waitReconciled(ctx context.Context, f *Factory, c client.WithWatch, k kinds.Kind, key client.ObjectKey, token string) error {
	p := progress{f.Err}
	p.waiting("waiting for %s reconciliation", k.Kind)
	wctx, cancel := f.withTimeout(ctx)
	defer cancel()
	got, err := waitFor(wctx, c, k, key, readyAfter(k, token))
	if err != nil {
		return err
	}
	p.success("%s reconciliation completed", k.Kind)
	if line := k.OutcomeOf(got); line != "" {
		p.success("%s", line)
	}
	return nil
}

// notFoundHint turns a NotFound error into one that says what to check.
func notFoundHint(err error, k kinds.Kind, name, ns string) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s %s/%s not found: list them with 'flux get %s -n %s'", k.Kind, ns, name, k.Command.GetPath(), ns)
	}
	return err
}

// isStatic tells whether obj is a static object of k (an Alert, a Provider,
// a HelmRepository of type oci), which no controller reconciles: nothing
// waits for it.
func isStatic(k kinds.Kind, obj kinds.Object) bool {
	return k.NotReconciled || (k.Static != nil && k.Static(obj) != "")
}
