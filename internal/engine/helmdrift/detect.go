package helmdrift

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	v2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/engine/apply"
)

// FieldManager is the field manager of drift correction, the one Helm
// applies the release with.
const FieldManager = "helm-controller"

// OptOutKey is the label or annotation that, set to "disabled" on an
// object (in the chart or in the cluster), leaves it out of drift
// detection and correction.
const OptOutKey = "helm.toolkit.fluxcd.io/driftDetection"

// owner is who Detect and Correct apply as; the group is the one of
// helm-controller's labels and annotations.
var owner = apply.Owner{Field: FieldManager, Group: "helm.toolkit.fluxcd.io"}

// Detector compares the objects of releases with one cluster, as one
// identity.
type Detector struct {
	m *apply.Manager
}

// New returns a Detector that reads and writes with client, as its
// identity, and finds kinds with mapper.
func New(client dynamic.Interface, mapper meta.ResettableRESTMapper) *Detector {
	return &Detector{m: apply.New(client, mapper, owner)}
}

// NewForConfig returns a Detector with a dynamic client and a RESTMapper
// backed by cached discovery, both built from cfg: pass the release's
// rest.Config (impersonating its service account, or its kubeConfig).
func NewForConfig(cfg *rest.Config) (*Detector, error) {
	m, err := apply.NewForConfig(cfg, owner)
	if err != nil {
		return nil, err
	}
	return &Detector{m: m}, nil
}

// Options say how Detect compares a release's objects and how Correct
// corrects them.
type Options struct {
	// Release is the release's full name, <namespace>/<name>.v<version>,
	// as the report's text names it.
	Release string
	// Namespace is the release's namespace, given to the namespaced
	// objects of the manifest that have none.
	Namespace string
	// Ignore are the rules of spec.driftDetection.ignore.
	Ignore []v2.IgnoreRule
	// OverrideManagers are the field managers of --override-manager.
	OverrideManagers []string
	// Concurrency bounds the dry-runs run at once; 0 means
	// apply.DefaultConcurrency.
	Concurrency int
	// WaitTimeout bounds the waits of Correct for re-created
	// CustomResourceDefinitions and namespaces; 0 means
	// apply.DefaultWaitTimeout.
	WaitTimeout time.Duration
}

func (o Options) compare() apply.CompareOptions {
	rules := make([]apply.IgnoreRule, len(o.Ignore))
	for i, r := range o.Ignore {
		rules[i] = apply.IgnoreRule{Paths: r.Paths, Target: r.Target}
	}
	return apply.CompareOptions{
		Namespace:        o.Namespace,
		Ignore:           rules,
		IgnoreField:      "spec.driftDetection.ignore",
		OverrideManagers: o.OverrideManagers,
		Exclude:          optedOut,
		Concurrency:      o.Concurrency,
		WaitTimeout:      o.WaitTimeout,
	}
}

// optedOut tells whether the manifest or the live object carries the
// opt-out label or annotation; the value is compared without regard to
// case.
func optedOut(desired, live *unstructured.Unstructured) bool {
	for _, obj := range []*unstructured.Unstructured{desired, live} {
		if obj == nil {
			continue
		}
		for _, m := range []map[string]string{obj.GetAnnotations(), obj.GetLabels()} {
			if v, ok := m[OptOutKey]; ok && strings.EqualFold(v, "disabled") {
				return true
			}
		}
	}
	return false
}

// Detect compares objects (the release's stored manifest, parsed, and its
// CRDs) with the cluster. The report lists every object it could compare,
// in the order given; an object it could not (its kind is not served and
// no CRD among objects defines it, it is forbidden, ...) is named in the
// error, and the report still holds the others. The objects are not
// modified; the report keeps copies for Correct.
func (d *Detector) Detect(ctx context.Context, objects []*unstructured.Unstructured, opts Options) (*Report, error) {
	comparisons, err := d.m.Compare(ctx, objects, opts.compare())
	r := &Report{Release: opts.Release, opts: opts}
	for _, c := range comparisons {
		e := Entry{Ref: c.Ref, State: State(c.Drift)}
		for _, ch := range c.Changes {
			e.Changes = append(e.Changes, Change{Op: ch.Op, Path: ch.Path})
		}
		e.object = find(objects, c.Ref, opts.Namespace)
		r.Entries = append(r.Entries, e)
	}
	if err != nil {
		return r, fmt.Errorf("drift detection of release %s: %w", r.name(), err)
	}
	return r, nil
}

// find returns a copy of the object of objects that ref names; ns is the
// namespace given to objects without one.
func find(objects []*unstructured.Unstructured, ref apply.ObjectRef, ns string) *unstructured.Unstructured {
	for _, o := range objects {
		if o == nil || o.GetName() != ref.Name || o.GroupVersionKind().GroupKind() != ref.GroupKind() {
			continue
		}
		// A cluster-scoped object is named by kind and name alone.
		if n := o.GetNamespace(); ref.Namespace == "" || n == ref.Namespace || (n == "" && ref.Namespace == ns) {
			return o.DeepCopy()
		}
	}
	return nil
}
