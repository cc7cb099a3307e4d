package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

func newReconcileCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Reconcile sources and resources now",
	}
	source := &cobra.Command{Use: "source", Short: "Reconcile sources now"}
	source.AddCommand(&cobra.Command{
		Use:   "git NAME",
		Short: "Reconcile a GitRepository source now",
		Example: `  # Fetch the latest commit of the GitRepository podinfo
  flux reconcile source git podinfo`,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := checkName(args, "reconcile source git")
			if err != nil {
				return err
			}
			return reconcileNamed(cmd.Context(), f, gitRepositoryKind(), name)
		},
	})
	var withSource bool
	ks := &cobra.Command{
		Use:     "kustomization NAME",
		Aliases: []string{"ks"},
		Short:   "Reconcile a Kustomization now",
		Example: `  # Apply the Kustomization podinfo outside of its interval
  flux reconcile kustomization podinfo

  # Fetch its source first, then apply
  flux reconcile kustomization podinfo --with-source`,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := checkName(args, "reconcile kustomization")
			if err != nil {
				return err
			}
			if withSource {
				if err := reconcileSourceOf(cmd.Context(), f, name); err != nil {
					return err
				}
			}
			return reconcileNamed(cmd.Context(), f, kustomizationKind(), name)
		},
	}
	ks.Flags().BoolVar(&withSource, "with-source", false, "reconcile Kustomization source")
	cmd.AddCommand(source, ks)
	return cmd
}

// reconcileSourceOf reconciles the source a Kustomization reads from.
func reconcileSourceOf(ctx context.Context, f *Factory, name string) error {
	c, ns, err := clientAndNamespace(f)
	if err != nil {
		return err
	}
	ks := &kustomizev1.Kustomization{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ks); err != nil {
		return notFoundHint(err, kustomizationKind(), name, ns)
	}
	ref := ks.Spec.SourceRef
	if ref.Kind != sourcev1.GitRepositoryKind {
		return fmt.Errorf("reconciling a %s source is not supported yet; run without --with-source", ref.Kind)
	}
	srcNS := ns
	if ref.Namespace != "" {
		srcNS = ref.Namespace
	}
	return reconcileIn(ctx, f, gitRepositoryKind(), client.ObjectKey{Namespace: srcNS, Name: ref.Name})
}

func reconcileNamed(ctx context.Context, f *Factory, k fluxKind, name string) error {
	ns, err := f.Namespace()
	if err != nil {
		return err
	}
	return reconcileIn(ctx, f, k, client.ObjectKey{Namespace: ns, Name: name})
}

// reconcileIn asks the controller to reconcile the object now (the
// requestedAt annotation, by merge patch), waits until the controller has
// handled that request and the object is Ready, and prints the revision.
func reconcileIn(ctx context.Context, f *Factory, k fluxKind, key client.ObjectKey) error {
	c, err := f.Client()
	if err != nil {
		return err
	}
	obj := k.New()
	if err := c.Get(ctx, key, obj); err != nil {
		return notFoundHint(err, k, key.Name, key.Namespace)
	}
	if obj.IsSuspended() {
		return fmt.Errorf("%s %s is suspended: resume it first with 'flux resume %s %s -n %s'",
			k.Kind, key, k.Command, key.Name, key.Namespace)
	}
	p := progress{f.Err}
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
func requestReconcile(ctx context.Context, c client.Client, obj meta.Object) (string, error) {
	token := requestToken()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, meta.ReconcileRequestAnnotation, token)
	return token, c.Patch(ctx, obj, client.RawPatch("application/merge-patch+json", []byte(patch)))
}

// waitReconciled waits, bounded by --timeout, until the controller has
// handled request token and the object is Ready, and prints the revision.
func waitReconciled(ctx context.Context, f *Factory, c client.WithWatch, k fluxKind, key client.ObjectKey, token string) error {
	p := progress{f.Err}
	p.waiting("waiting for %s reconciliation", k.Kind)
	wctx, cancel := f.withTimeout(ctx)
	defer cancel()
	got, err := waitFor(wctx, c, k, key, readyAfter(k, token))
	if err != nil {
		return err
	}
	p.success("%s reconciliation completed", k.Kind)
	if rev := k.Revision(got); rev != "" {
		p.success("%s revision %s", k.RevisionVerb, rev)
	}
	return nil
}

func clientAndNamespace(f *Factory) (client.WithWatch, string, error) {
	c, err := f.Client()
	if err != nil {
		return nil, "", err
	}
	ns, err := f.Namespace()
	return c, ns, err
}

// notFoundHint turns a NotFound error into one that says what to check.
func notFoundHint(err error, k fluxKind, name, ns string) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s %s/%s not found: list them with 'flux get %s -n %s'", k.Kind, ns, name, k.GetCommand, ns)
	}
	return err
}
