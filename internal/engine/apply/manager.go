package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	apimeta "github.com/driftless/driftless/api/meta"
)

// Defaults of ApplyOptions and PruneOptions.
const (
	DefaultConcurrency = 4
	DefaultWaitTimeout = 60 * time.Second
)

// Manager applies and deletes objects on one cluster, as one identity:
// build it with a client impersonating the Kustomization's service account
// to apply with that account's rights.
type Manager struct {
	client dynamic.Interface
	mapper meta.ResettableRESTMapper
	owner  Owner
}

// New returns a Manager that uses client and mapper; the mapper is reset
// when a kind is not found, and after CustomResourceDefinitions are applied.
func New(client dynamic.Interface, mapper meta.ResettableRESTMapper, owner Owner) *Manager {
	return &Manager{client: client, mapper: mapper, owner: owner}
}

// NewForConfig returns a Manager with a dynamic client and a RESTMapper
// backed by cached discovery, both built from cfg.
func NewForConfig(cfg *rest.Config, owner Owner) (*Manager, error) {
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	return New(client, restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), owner), nil
}

// Owner returns the owner the manager applies as.
func (m *Manager) Owner() Owner { return m.owner }

// ApplyOptions say how ApplyAll applies a set of objects.
type ApplyOptions struct {
	// OwnerLabels are set on every object (required); build them with
	// Owner.Labels(kustomization name, kustomization namespace).
	OwnerLabels map[string]string
	// CommonMetadata labels and annotations are set on every object,
	// replacing the values of the same keys.
	CommonMetadata *apimeta.CommonMetadata
	// Force recreates every object whose update fails on an immutable
	// field; the annotation <Group>/force: enabled does it for one object.
	Force bool
	// Ignore are the spec.ignore rules: fields left out of drift detection
	// and apply.
	Ignore []IgnoreRule
	// CustomStageKinds are applied after the *Class kinds and before the
	// other objects (--custom-apply-stage-kinds).
	CustomStageKinds []schema.GroupKind
	// OverrideManagers are field managers whose apply and update entries
	// are handed over to the owner before applying (--override-manager).
	OverrideManagers []string
	// Concurrency bounds the dry-runs run at once (--concurrent-ssa); 0
	// means DefaultConcurrency.
	Concurrency int
	// Previous lists the objects applied last time (the inventory), when
	// known. An object not in it is probably new: it is dry-run first and
	// read only when the dry-run shows that it exists, which saves a
	// request per new object. nil reads every object first.
	Previous *Inventory
	previous map[string]bool // Previous's IDs, set by ApplyAll
	// Cached, when set, returns a cached copy of a live object (its
	// managed fields may be left out), or false when the cache does not
	// hold it. For an object Previous lists, the dry-run then comes first,
	// and when it was made against the very copy the cache holds (the same
	// resourceVersion) the copy stands in for the read: a cache that lags
	// costs the read, never a wrong decision. The copy must not be changed.
	Cached func(ref ObjectRef, resource schema.GroupVersionResource) (*unstructured.Unstructured, bool)
	// WaitTimeout bounds each wait: for definitions and classes to be
	// ready, for new kinds to be served, for a recreated object to be
	// gone; 0 means DefaultWaitTimeout.
	WaitTimeout time.Duration
}

func (o ApplyOptions) concurrency() int {
	if o.Concurrency <= 0 {
		return DefaultConcurrency
	}
	return o.Concurrency
}

func (o ApplyOptions) waitTimeout() time.Duration {
	if o.WaitTimeout <= 0 {
		return DefaultWaitTimeout
	}
	return o.WaitTimeout
}

// object is one object to apply.
type object struct {
	desired *unstructured.Unstructured // with labels and annotations set
	ref     ObjectRef
	mapping *meta.RESTMapping // nil until its kind is known
	// defaultNamespace is given to a namespaced object without one (the
	// namespace of a Helm release); "" requires one.
	defaultNamespace string
}

// ApplyAll applies objects in stages and returns what it did. It checks
// every object before it writes anything: an object of an unknown kind or
// without a namespace fails the whole set. The objects are not modified.
// On error the ChangeSet lists what was applied before the failure.
func (m *Manager) ApplyAll(ctx context.Context, objects []*unstructured.Unstructured, opts ApplyOptions) (*ChangeSet, error) {
	cs := &ChangeSet{}
	if m.owner.Field == "" || m.owner.Group == "" {
		return cs, errors.New("apply: the owner needs a field manager and a group")
	}
	if len(opts.OwnerLabels) == 0 {
		return cs, errors.New("apply: owner labels are required")
	}
	rules, err := compileIgnore(opts.Ignore)
	if err != nil {
		return cs, err
	}
	objs, err := m.prepare(objects, opts)
	if err != nil {
		return cs, err
	}
	if opts.Previous != nil {
		opts.previous = make(map[string]bool, len(opts.Previous.Entries))
		for _, e := range opts.Previous.Entries {
			opts.previous[e.ID] = true
		}
	}
	for s, stage := range stages(objs, opts.CustomStageKinds) {
		if len(stage) == 0 {
			continue
		}
		if err := m.resolveKinds(ctx, stage, opts.waitTimeout()); err != nil {
			return cs, err
		}
		done, err := m.applyStage(ctx, stage, rules, opts)
		cs.Append(done)
		if err != nil {
			return cs, err
		}
		if s == stageDefinitions || s == stageClasses {
			if err := m.waitReady(ctx, stage, done, opts.waitTimeout()); err != nil {
				return cs, err
			}
		}
	}
	return cs, nil
}

// prepare copies and labels the objects and finds their kinds: those a
// CustomResourceDefinition of the set defines are found after it is
// applied.
func (m *Manager) prepare(objects []*unstructured.Unstructured, opts ApplyOptions) ([]*object, error) {
	defined, err := definedKinds(objects)
	if err != nil {
		return nil, err
	}
	var errs []error
	seen := map[string]bool{}
	reset := false
	out := make([]*object, 0, len(objects))
	for i, in := range objects {
		if in == nil {
			errs = append(errs, fmt.Errorf("object %d is nil", i))
			continue
		}
		o := &object{desired: in.DeepCopy(), ref: RefOf(in)}
		if o.ref.Kind == "" || o.ref.Version == "" || o.ref.Name == "" {
			errs = append(errs, fmt.Errorf("object %d (%s): apiVersion, kind and metadata.name are required", i, o.ref))
			continue
		}
		setMetadata(o.desired, opts)
		if !defined[o.ref.GroupVersionKind()] {
			o.mapping, err = m.mapper.RESTMapping(o.ref.GroupKind(), o.ref.Version)
			if meta.IsNoMatchError(err) && !reset {
				reset = true
				m.mapper.Reset()
				o.mapping, err = m.mapper.RESTMapping(o.ref.GroupKind(), o.ref.Version)
			}
			if err != nil {
				errs = append(errs, objectError(o.ref, "mapping", err))
				continue
			}
			if err := o.setScope(); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if id := o.ref.ID(); seen[id] {
			errs = append(errs, fmt.Errorf("%s: the object is given twice", o.ref))
			continue
		} else {
			seen[id] = true
		}
		out = append(out, o)
	}
	return out, errors.Join(errs...)
}

// setScope checks the namespace against the scope of the kind: required
// for namespaced kinds, dropped for cluster-scoped ones.
func (o *object) setScope() error {
	if o.mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		if o.ref.Namespace == "" && o.defaultNamespace != "" {
			o.ref.Namespace = o.defaultNamespace
			o.desired.SetNamespace(o.defaultNamespace)
		}
		if o.ref.Namespace == "" {
			return fmt.Errorf("%s: namespace not specified: set metadata.namespace or spec.targetNamespace", o.ref)
		}
		return nil
	}
	o.desired.SetNamespace("")
	o.ref.Namespace = ""
	return nil
}

// setMetadata sets the common metadata, then the ownership labels.
func setMetadata(obj *unstructured.Unstructured, opts ApplyOptions) {
	labels, annotations := obj.GetLabels(), obj.GetAnnotations()
	if labels == nil {
		labels = map[string]string{}
	}
	if cm := opts.CommonMetadata; cm != nil {
		if annotations == nil && len(cm.Annotations) > 0 {
			annotations = map[string]string{}
		}
		for k, v := range cm.Annotations {
			annotations[k] = v
		}
		for k, v := range cm.Labels {
			labels[k] = v
		}
	}
	for k, v := range opts.OwnerLabels {
		labels[k] = v
	}
	obj.SetLabels(labels)
	if annotations != nil {
		obj.SetAnnotations(annotations)
	}
}

// definedKinds lists the kinds, with their served versions, that the
// CustomResourceDefinitions among objects define.
func definedKinds(objects []*unstructured.Unstructured) (map[schema.GroupVersionKind]bool, error) {
	out := map[schema.GroupVersionKind]bool{}
	for _, o := range objects {
		if o == nil || o.GroupVersionKind().GroupKind() != (schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}) {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		versions, _, err := unstructured.NestedSlice(o.Object, "spec", "versions")
		if err != nil {
			return nil, fmt.Errorf("%s: spec.versions: %w", RefOf(o), err)
		}
		for _, v := range versions {
			vm, _ := v.(map[string]any)
			name, _ := vm["name"].(string)
			if served, _ := vm["served"].(bool); served && name != "" {
				out[schema.GroupVersionKind{Group: group, Version: name, Kind: kind}] = true
			}
		}
	}
	return out, nil
}
