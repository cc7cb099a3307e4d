package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/install"
)

// installExtras are the flags of `flux install` that `flux bootstrap` does
// not share with it.
type installExtras struct {
	registryCreds string
	force         bool
}

// installHooks are what `flux install` adds to an install: the field
// managers whose fields it takes over, and a step run once the objects are
// applied and before waiting for the controllers.
type installHooks struct {
	overrideManagers []string
	afterApply       func(ctx context.Context) error
}

// crdProbe is the CRD whose labels tell whether Flux is installed, which
// version, and which tool manages it, as Flux's CLI reads them.
const crdProbe = "gitrepositories.source.toolkit.fluxcd.io"

func (x *installExtras) addFlags(fl *pflag.FlagSet) {
	fl.StringVar(&x.registryCreds, "registry-creds", "",
		"container registry credentials in the format 'user:password', requires --image-pull-secret to be set")
	fl.BoolVar(&x.force, "force", false, "override existing Flux installation if it's managed by a different tool such as Helm")
}

// check validates the flags before anything is rendered or applied.
func (x *installExtras) check(o install.Options) error {
	if x.registryCreds == "" {
		return nil
	}
	if o.ImagePullSecret == "" {
		return fmt.Errorf("--registry-creds requires --image-pull-secret to be set: the name of the Secret to create with them")
	}
	if errs := validation.IsDNS1123Subdomain(o.ImagePullSecret); len(errs) > 0 {
		return fmt.Errorf("invalid --image-pull-secret %q: %s", o.ImagePullSecret, strings.Join(errs, "; "))
	}
	if user, pass, ok := strings.Cut(x.registryCreds, ":"); !ok || user == "" || pass == "" {
		return fmt.Errorf("invalid --registry-creds format, expected 'user:password'")
	}
	return nil
}

// hooks checks whether another tool manages the installed Flux, asking to
// take it over unless --force, and returns what the install adds.
func (x *installExtras) hooks(ctx context.Context, f *Factory, o install.Options) (installHooks, error) {
	var h installHooks
	managers, err := x.takeOver(ctx, f)
	if err != nil {
		return h, err
	}
	h.overrideManagers = managers
	if x.registryCreds != "" {
		user, pass, _ := strings.Cut(x.registryCreds, ":")
		h.afterApply = func(ctx context.Context) error {
			progress{f.Err}.action("generating image pull secret %s", o.ImagePullSecret)
			s, err := dockerConfigSecret(o.Registry, user, pass)
			if err != nil {
				return err
			}
			s.name, s.namespace = o.ImagePullSecret, o.Namespace
			return s.apply(ctx, f)
		}
	}
	return h, nil
}

// takeOver reads who manages the installed Flux (the managed-by label of
// its GitRepository CRD, as Flux's CLI reads it). When another tool (such
// as Helm) does, it says so and, unless --force, asks before going on; the
// install then takes over the fields that tool's field managers own, so
// that they are Flux's from then on (and the tool's labels go). It returns
// those managers.
func (x *installExtras) takeOver(ctx context.Context, f *Factory) ([]string, error) {
	c, err := f.Client()
	if err != nil {
		return nil, err
	}
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
	if err := c.Get(ctx, client.ObjectKey{Name: crdProbe}, crd); apierrors.IsNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("cluster info unavailable: read CustomResourceDefinition %s: %w", crdProbe, err)
	}
	tool := crd.Labels["app.kubernetes.io/managed-by"]
	if tool == "" || tool == installOwner.Field {
		return nil, nil
	}
	fmt.Fprintf(f.Err, "Flux %s has been installed on this cluster with %s!\n", crd.Labels[install.VersionLabel], tool)
	if !x.force {
		yes, err := confirm(f.In, f.Err, fmt.Sprintf("Are you sure you want to override the %s installation", tool))
		if err != nil {
			return nil, err
		}
		if !yes {
			return nil, fmt.Errorf("installation cancelled: nothing was changed (pass --force to override the %s installation)", tool)
		}
	}
	// The tool's own field managers ("helm" for Helm) are those named
	// after it; others (a CA injector, say) keep their fields.
	var managers []string
	for _, e := range crd.ManagedFields {
		named := strings.Contains(strings.ToLower(e.Manager), strings.ToLower(tool))
		if named && e.Subresource == "" && e.Manager != installOwner.Field && !slices.Contains(managers, e.Manager) {
			managers = append(managers, e.Manager)
		}
	}
	if len(managers) > 0 {
		progress{f.Err}.action("taking over the fields managed by %s", strings.Join(managers, ", "))
	}
	return managers, nil
}
