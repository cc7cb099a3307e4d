package apply

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// CompareOptions say how Compare and Reapply treat a set of objects taken
// as they are: no ownership labels or common metadata are added and no
// <Group>/ssa annotation is read. It is what the drift detection and
// correction of Helm releases need, whose objects Helm labelled already.
type CompareOptions struct {
	// Namespace is given to namespaced objects without one (the namespace
	// of a Helm release, whose manifest may leave it out).
	Namespace string
	// Ignore are fields left out of the comparison; Reapply keeps their
	// live values (see ApplyOptions.Ignore).
	Ignore []IgnoreRule
	// IgnoreField is where the rules come from, for errors; "" is
	// spec.ignore.
	IgnoreField string
	// OverrideManagers are field managers whose apply and update entries
	// are handed over to the owner before the dry-run (--override-manager):
	// a field one of them added, which the object does not set, then shows
	// as drift and is removed by Reapply. Unlike ApplyAll, the entries of
	// kubectl are handed over only when listed.
	OverrideManagers []string
	// Exclude, when set, leaves out an object: its manifest and its live
	// copy (nil when it does not exist) are given.
	Exclude func(desired, live *unstructured.Unstructured) bool
	// Concurrency bounds the dry-runs run at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// WaitTimeout bounds the waits of Reapply for definitions to be ready
	// and their kinds served; 0 means DefaultWaitTimeout.
	WaitTimeout time.Duration
}

func (o CompareOptions) compileIgnore() ([]ignoreRule, error) {
	if o.IgnoreField == "" {
		return compileIgnore(o.Ignore)
	}
	return compileIgnoreAt(o.Ignore, o.IgnoreField)
}

func (o CompareOptions) applyOptions() ApplyOptions {
	return ApplyOptions{Concurrency: o.Concurrency, WaitTimeout: o.WaitTimeout}
}

// Drift is the result of comparing one object with the cluster.
type Drift string

// The results of Compare.
const (
	// InSync: a server-side apply of the object would change nothing.
	InSync Drift = "unchanged"
	// Drifted: a server-side apply would change the fields listed.
	Drifted Drift = "changed"
	// Missing: the object does not exist (or its kind is not served).
	Missing Drift = "removed"
	// Excluded: CompareOptions.Exclude left the object out.
	Excluded Drift = "excluded"
)

// FieldChange is one field a server-side apply would change: its JSON
// Pointer and whether it would be added, replaced or removed. It carries
// no value on purpose: drift reports go to events anyone may read.
type FieldChange struct {
	Op   string // add, replace or remove
	Path string
}

// Comparison is the result of Compare for one object.
type Comparison struct {
	Ref   ObjectRef
	Drift Drift
	// Changes lists the drifted fields, sorted by path.
	Changes []FieldChange
}

// Compare dry-runs a server-side apply of each object, forcing conflicts,
// and compares the result with the live object, leaving out the metadata
// that changes on every write and the ignored paths. Only the hand-over of
// override managers' fields writes to the cluster. The comparisons keep
// the order of objects; an object that could not be compared is left out
// of them and named in the error, the others are still compared. An object
// whose kind a CustomResourceDefinition of the set defines but the cluster
// does not serve is Missing.
func (m *Manager) Compare(ctx context.Context, objects []*unstructured.Unstructured, opts CompareOptions) ([]Comparison, error) {
	if m.owner.Field == "" {
		return nil, errors.New("compare: the owner needs a field manager")
	}
	rules, err := opts.compileIgnore()
	if err != nil {
		return nil, err
	}
	objs, unserved, prepErr := m.prepareAsIs(objects, opts.Namespace)
	results := make([]*Comparison, len(objs))
	errs := make([]error, len(objs))
	sem := make(chan struct{}, max(1, opts.applyOptions().concurrency()))
	var wg sync.WaitGroup
	for i, o := range objs {
		if unserved[o] {
			results[i] = &Comparison{Ref: o.ref, Drift: Missing}
			if opts.Exclude != nil && opts.Exclude(o.desired, nil) {
				results[i].Drift = Excluded
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i], errs[i] = m.compare(ctx, o, rules, opts)
		}()
	}
	wg.Wait()
	out := make([]Comparison, 0, len(objs))
	for _, c := range results {
		if c != nil {
			out = append(out, *c)
		}
	}
	return out, errors.Join(append([]error{prepErr}, errs...)...)
}

// compare compares one object whose kind is known.
func (m *Manager) compare(ctx context.Context, o *object, rules []ignoreRule, opts CompareOptions) (*Comparison, error) {
	res := m.resource(o)
	paths := ignoredPaths(rules, o.desired)
	handover := overrideRules(opts.OverrideManagers)
	for attempt := 0; ; attempt++ {
		live, err := res.Get(ctx, o.ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			live = nil
		case err != nil:
			return nil, objectError(o.ref, "get", err, o.desired)
		}
		if opts.Exclude != nil && opts.Exclude(o.desired, live) {
			return &Comparison{Ref: o.ref, Drift: Excluded}, nil
		}
		if live == nil {
			return &Comparison{Ref: o.ref, Drift: Missing}, nil
		}
		if len(handover) > 0 {
			if live, _, err = m.handOver(ctx, o, live, handover, false); err != nil {
				return nil, objectError(o.ref, "managed fields hand-over", err, o.desired, live)
			}
		}
		payload := o.desired.DeepCopy()
		m.adoptIgnored(payload, live, paths)
		dry, err := m.apply(ctx, o, payload, true)
		if err != nil {
			return nil, objectError(o.ref, "dry-run", err, payload, live, o.desired)
		}
		// The dry-run saw a newer object than the one read: read again, so
		// that a change made meanwhile is not reported against an old copy.
		if dry.GetResourceVersion() != live.GetResourceVersion() && attempt < 3 {
			continue
		}
		c := &Comparison{Ref: o.ref, Drift: InSync, Changes: fieldChanges(dry, live, paths)}
		if len(c.Changes) > 0 {
			c.Drift = Drifted
		}
		return c, nil
	}
}

// Reapply applies objects as they are, forcing conflicts: the drift
// correction of a Helm release, from the release's own objects. The
// objects go in ApplyAll's stages and order, definitions and namespaces
// waited for, so that an object whose CustomResourceDefinition is among
// them can follow it. Ignored fields keep their live values, excluded
// objects are Skipped, override managers' fields are handed over first.
// The objects are not modified. On error the ChangeSet lists what was
// applied before the failure.
func (m *Manager) Reapply(ctx context.Context, objects []*unstructured.Unstructured, opts CompareOptions) (*ChangeSet, error) {
	cs := &ChangeSet{}
	if m.owner.Field == "" {
		return cs, errors.New("reapply: the owner needs a field manager")
	}
	rules, err := opts.compileIgnore()
	if err != nil {
		return cs, err
	}
	objs, unserved, err := m.prepareAsIs(objects, opts.Namespace)
	if err != nil {
		return cs, err
	}
	for o := range unserved {
		o.mapping = nil // resolveKinds waits until the kind is served
	}
	aopts := opts.applyOptions()
	for s, stage := range stages(objs, nil) {
		if len(stage) == 0 {
			continue
		}
		if err := m.resolveKinds(ctx, stage, aopts.waitTimeout()); err != nil {
			return cs, err
		}
		plans := make([]*plan, len(stage))
		for i, o := range stage {
			if plans[i], err = m.planReapply(ctx, o, rules, opts); err != nil {
				return cs, err
			}
		}
		for start := 0; start < len(plans); {
			end := start + 1
			for end < len(plans) && plans[end].obj.ref.GroupKind() == plans[start].obj.ref.GroupKind() {
				end++
			}
			if err := m.executeTier(ctx, plans[start:end], cs, aopts); err != nil {
				return cs, err
			}
			start = end
		}
		if s == stageDefinitions || s == stageClasses {
			if err := m.waitReady(ctx, stage, cs, aopts.waitTimeout()); err != nil {
				return cs, err
			}
		}
	}
	return cs, nil
}

// planReapply reads the live object and decides what Reapply writes.
func (m *Manager) planReapply(ctx context.Context, o *object, rules []ignoreRule, opts CompareOptions) (*plan, error) {
	live, err := m.resource(o).Get(ctx, o.ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		live = nil
	case err != nil:
		return nil, objectError(o.ref, "get", err, o.desired)
	}
	if opts.Exclude != nil && opts.Exclude(o.desired, live) {
		return &plan{obj: o, live: live, action: Skipped}, nil
	}
	p := &plan{obj: o, live: live, payload: o.desired.DeepCopy(), action: Created}
	if live == nil {
		return p, nil
	}
	if handover := overrideRules(opts.OverrideManagers); len(handover) > 0 {
		if p.live, _, err = m.handOver(ctx, o, live, handover, false); err != nil {
			return nil, objectError(o.ref, "managed fields hand-over", err, o.desired, live)
		}
	}
	m.adoptIgnored(p.payload, p.live, ignoredPaths(rules, o.desired))
	p.action = Configured
	return p, nil
}

// prepareAsIs copies the objects and finds their kinds, without adding any
// metadata. Objects of a kind that a CustomResourceDefinition of the set
// defines and the cluster does not serve are returned in unserved; those
// of a kind nobody defines fail, each named, and are left out.
func (m *Manager) prepareAsIs(objects []*unstructured.Unstructured, namespace string) ([]*object, map[*object]bool, error) {
	defined, err := definedKinds(objects)
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	seen := map[string]bool{}
	unserved := map[*object]bool{}
	reset := false
	out := make([]*object, 0, len(objects))
	for i, in := range objects {
		if in == nil {
			errs = append(errs, fmt.Errorf("object %d is nil", i))
			continue
		}
		o := &object{desired: in.DeepCopy(), ref: RefOf(in), defaultNamespace: namespace}
		if o.ref.Kind == "" || o.ref.Version == "" || o.ref.Name == "" {
			errs = append(errs, fmt.Errorf("object %d (%s): apiVersion, kind and metadata.name are required", i, o.ref))
			continue
		}
		o.mapping, err = m.mapper.RESTMapping(o.ref.GroupKind(), o.ref.Version)
		if meta.IsNoMatchError(err) && !reset {
			reset = true
			m.mapper.Reset()
			o.mapping, err = m.mapper.RESTMapping(o.ref.GroupKind(), o.ref.Version)
		}
		switch {
		case meta.IsNoMatchError(err) && defined[o.ref.GroupVersionKind()]:
			o.mapping = nil
			if o.ref.Namespace == "" && definedNamespaced(objects, o.ref) {
				o.ref.Namespace = namespace
				o.desired.SetNamespace(namespace)
			}
			unserved[o] = true
		case err != nil:
			errs = append(errs, objectError(o.ref, "mapping", err))
			continue
		default:
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
	return out, unserved, errors.Join(errs...)
}

// definedNamespaced tells whether the CustomResourceDefinition among
// objects that defines the kind of ref makes it namespaced.
func definedNamespaced(objects []*unstructured.Unstructured, ref ObjectRef) bool {
	for _, o := range objects {
		if o == nil || o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		if group == ref.Group && kind == ref.Kind {
			scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
			return scope == "Namespaced"
		}
	}
	return false
}
