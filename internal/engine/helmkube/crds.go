package helmkube

// A chart's crds/ directory, applied by the controller rather than by
// Helm (whose install only creates CRDs and whose upgrade ignores them), as
// Flux's helm-controller does under install.crds and upgrade.crds.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"

	"github.com/driftless/driftless/internal/engine/health"
)

// CRDPolicy says what ApplyCRDs does with a chart's CRDs.
type CRDPolicy string

const (
	// CRDsSkip applies nothing.
	CRDsSkip CRDPolicy = "Skip"
	// CRDsCreate creates the CRDs that do not exist and leaves existing
	// ones as they are.
	CRDsCreate CRDPolicy = "Create"
	// CRDsCreateReplace creates the CRDs that do not exist and replaces
	// existing ones with the chart's. Neither deletes a CRD.
	CRDsCreateReplace CRDPolicy = "CreateReplace"
)

// CRDFile is one file of a chart's crds/ directory (its subcharts' too).
type CRDFile struct {
	// Filename names the file in messages: <chart>/crds/<file>.
	Filename string
	Data     []byte
}

// CRDOptions say how to apply CRDs.
type CRDOptions struct {
	Policy CRDPolicy
	// Labels are set on every CRD written (the HelmRelease's origin labels).
	Labels map[string]string
	// Timeout bounds the wait for the CRDs to be Established; zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// CRDChange is what ApplyCRDs did with one CRD.
type CRDChange struct {
	Name     string
	Filename string
	// Action is "created", "replaced" or "unchanged" (Create found it).
	Action string
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// ApplyCRDs applies the CRD files with the policy, as the Target's identity
// (an impersonated ServiceAccount's permissions apply), waits for every CRD
// it wrote to be Established, then makes the Target and cfg's kube client
// see the new kinds. It never deletes a CRD. Errors name the CRD, its file
// and, when the Target impersonates, the identity.
func (t *Target) ApplyCRDs(ctx context.Context, cfg *action.Configuration, files []CRDFile, opts CRDOptions) ([]CRDChange, error) {
	if opts.Policy == CRDsSkip || opts.Policy == "" || len(files) == 0 {
		return nil, nil
	}
	if opts.Policy != CRDsCreate && opts.Policy != CRDsCreateReplace {
		return nil, fmt.Errorf("unknown CRD policy %q: use Skip, Create or CreateReplace", opts.Policy)
	}
	crds, err := decodeCRDs(files)
	if err != nil {
		return nil, err
	}
	client, err := dynamic.NewForConfig(t.config)
	if err != nil {
		return nil, fmt.Errorf("CRDs: dynamic client: %w", err)
	}
	api := client.Resource(crdGVR)
	var changes []CRDChange
	var refs []health.ObjectRef
	for _, c := range crds {
		for k, v := range opts.Labels {
			labels := c.obj.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			labels[k] = v
			c.obj.SetLabels(labels)
		}
		action, rv, err := t.applyCRD(ctx, api, c.obj, opts.Policy)
		if err != nil {
			return changes, fmt.Errorf("CRD %s (%s): %w%s", c.obj.GetName(), c.filename, err, t.asWhom(err))
		}
		changes = append(changes, CRDChange{Name: c.obj.GetName(), Filename: c.filename, Action: action})
		if action != "unchanged" {
			refs = append(refs, health.ObjectRef{Group: crdGVR.Group, Version: crdGVR.Version, Kind: "CustomResourceDefinition",
				Name: c.obj.GetName(), ResourceVersion: rv})
		}
	}
	if len(refs) > 0 {
		timeout := opts.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		if _, err := t.checker.Wait(ctx, refs, health.WaitOptions{Timeout: timeout}); err != nil {
			return changes, fmt.Errorf("CRDs not established: %w", err)
		}
	} else if t.knowsKinds(crds) {
		return changes, nil // nothing written and every kind known: the caches are right
	}
	// The discovery, RESTMapper and OpenAPI caches learn the new kinds; the
	// configuration's kube client takes the fresh factory.
	t.Invalidate()
	if c, ok := cfg.KubeClient.(*Client); ok {
		c.Factory = t.sharedFactory()
	}
	return changes, nil
}

// applyCRD creates or, under CreateReplace, replaces one CRD; it returns
// what it did ("unchanged" when the CRD exists under Create, or when the
// replacement changed nothing) and the resourceVersion it left.
func (t *Target) applyCRD(ctx context.Context, api dynamic.ResourceInterface, want *unstructured.Unstructured, policy CRDPolicy) (string, string, error) {
	name := want.GetName()
	live, err := api.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		created, err := api.Create(ctx, want.DeepCopy(), metav1.CreateOptions{FieldManager: FieldManager})
		if err == nil {
			return "created", created.GetResourceVersion(), nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return "", "", fmt.Errorf("create: %w", err)
		}
		// Created meanwhile: treated as existing.
		if live, err = api.Get(ctx, name, metav1.GetOptions{}); err != nil {
			return "", "", fmt.Errorf("read: %w", err)
		}
	case err != nil:
		return "", "", fmt.Errorf("read: %w", err)
	}
	if policy != CRDsCreateReplace {
		return "unchanged", live.GetResourceVersion(), nil
	}
	var rv string
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if live == nil {
			var err error
			if live, err = api.Get(ctx, name, metav1.GetOptions{}); err != nil {
				return err
			}
		}
		next := replacement(live, want)
		updated, err := api.Update(ctx, next, metav1.UpdateOptions{FieldManager: FieldManager})
		if err != nil {
			live = nil
			return err
		}
		if updated.GetResourceVersion() == live.GetResourceVersion() {
			rv = "" // the API server found nothing to change
			return nil
		}
		rv = updated.GetResourceVersion()
		return nil
	})
	if err != nil {
		return "", "", fmt.Errorf("replace: %w", err)
	}
	if rv == "" {
		return "unchanged", live.GetResourceVersion(), nil
	}
	return "replaced", rv, nil
}

// replacement is the chart's CRD put over the live one: the chart's labels,
// annotations and spec, with what belongs to the cluster kept (the
// resourceVersion, finalizers, owner references) and a conversion webhook's
// caBundle kept when the chart leaves it to an injector.
func replacement(live, want *unstructured.Unstructured) *unstructured.Unstructured {
	next := want.DeepCopy()
	next.SetResourceVersion(live.GetResourceVersion())
	next.SetFinalizers(live.GetFinalizers())
	next.SetOwnerReferences(live.GetOwnerReferences())
	path := []string{"spec", "conversion", "webhook", "clientConfig", "caBundle"}
	if _, found, _ := unstructured.NestedString(next.Object, path...); !found {
		if ca, ok, _ := unstructured.NestedString(live.Object, path...); ok && ca != "" {
			if _, hasWebhook, _ := unstructured.NestedMap(next.Object, path[:4]...); hasWebhook {
				_ = unstructured.SetNestedField(next.Object, ca, path...)
			}
		}
	}
	return next
}

// knowsKinds tells whether the Target's RESTMapper already maps every
// served version of every CRD's kind (one someone else created or changed
// since its discovery was read would not be).
func (t *Target) knowsKinds(crds []crdObject) bool {
	for _, c := range crds {
		group, _, _ := unstructured.NestedString(c.obj.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(c.obj.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedSlice(c.obj.Object, "spec", "versions")
		for _, v := range versions {
			m, _ := v.(map[string]any)
			name, _ := m["name"].(string)
			if served, _ := m["served"].(bool); !served || name == "" {
				continue
			}
			if _, err := t.mapper.RESTMapping(schema.GroupKind{Group: group, Kind: kind}, name); err != nil {
				return false
			}
		}
	}
	return true
}

// asWhom adds the impersonated identity to a refusal.
func (t *Target) asWhom(err error) string {
	if user := t.config.Impersonate.UserName; user != "" && (apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err)) {
		return fmt.Sprintf(" (as %s: grant it access to customresourcedefinitions.apiextensions.k8s.io, or set the CRD policy to Skip)", user)
	}
	return ""
}

type crdObject struct {
	filename string
	obj      *unstructured.Unstructured
}

// decodeCRDs reads every document of the files; each must be an
// apiextensions.k8s.io/v1 CustomResourceDefinition with a name, once.
func decodeCRDs(files []CRDFile) ([]crdObject, error) {
	var out []crdObject
	seen := map[string]string{}
	for _, f := range files {
		dec := yaml.NewYAMLOrJSONDecoder(strings.NewReader(string(f.Data)), 4096)
		for i := 1; ; i++ {
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("%s: document %d is not valid YAML: %w", f.Filename, i, err)
			}
			if len(m) == 0 {
				continue
			}
			u := &unstructured.Unstructured{Object: m}
			gvk := u.GroupVersionKind()
			if gvk.Group != crdGVR.Group || gvk.Kind != "CustomResourceDefinition" || gvk.Version != crdGVR.Version {
				return nil, fmt.Errorf("%s: document %d is a %s %q, not an apiextensions.k8s.io/v1 CustomResourceDefinition: only CRDs belong in crds/",
					f.Filename, i, gvk.Kind, u.GetName())
			}
			if u.GetName() == "" {
				return nil, fmt.Errorf("%s: document %d: the CustomResourceDefinition has no metadata.name", f.Filename, i)
			}
			if prev, dup := seen[u.GetName()]; dup {
				return nil, fmt.Errorf("%s: CRD %s is also defined in %s", f.Filename, u.GetName(), prev)
			}
			seen[u.GetName()] = f.Filename
			u.SetNamespace("")
			u.SetResourceVersion("")
			out = append(out, crdObject{filename: f.Filename, obj: u})
		}
	}
	return out, nil
}
