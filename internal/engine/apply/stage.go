package apply

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/driftless/driftless/internal/engine/kubeerr"
)

// plan is what applyStage decided for one object after its dry-run.
type plan struct {
	obj      *object
	payload  *unstructured.Unstructured // what to apply
	live     *unstructured.Unstructured // nil when the object does not exist
	action   Action
	recreate bool // delete the live object first: it has an immutable change
}

// applyStage dry-runs the objects of a stage in parallel, then applies the
// new and drifted ones kind by kind in Flux's order, the objects of one
// kind in parallel. Any dry-run error fails the stage before it writes
// anything; every object's error is reported, except when the API server
// is out of reach: the objects not planned yet are then left, as they
// would fail the same way, each after its turn at the client's rate.
func (m *Manager) applyStage(ctx context.Context, objs []*object, rules []ignoreRule, opts ApplyOptions) (*ChangeSet, error) {
	plans := make([]*plan, len(objs))
	errs := make([]error, len(objs))
	next := make(chan int, len(objs))
	for _, i := range interleaveKinds(objs) {
		next <- i
	}
	close(next)
	planCtx, stop := context.WithCancel(ctx)
	defer stop()
	var unreachable atomic.Bool
	var wg sync.WaitGroup
	for range min(opts.concurrency(), len(objs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if planCtx.Err() != nil {
					continue
				}
				plans[i], errs[i] = m.plan(planCtx, objs[i], rules, opts)
				if kubeerr.Unreachable(errs[i]) {
					unreachable.Store(true)
					stop()
				}
			}
		}()
	}
	wg.Wait()
	cs := &ChangeSet{}
	if unreachable.Load() && ctx.Err() == nil {
		// The requests cut short by the stop are not news.
		for i, err := range errs {
			if errors.Is(err, context.Canceled) {
				errs[i] = nil
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return cs, err
	}
	if ctx.Err() != nil {
		return cs, ctx.Err()
	}
	for start := 0; start < len(plans); {
		end := start + 1
		for end < len(plans) && plans[end].obj.ref.GroupKind() == plans[start].obj.ref.GroupKind() {
			end++
		}
		if err := m.executeTier(ctx, plans[start:end], cs, opts); err != nil {
			return cs, err
		}
		start = end
	}
	return cs, nil
}

// interleaveKinds returns the indexes of objs (sorted by kind) taking one
// object of each kind in turn: dry-runs may run in any order, and the
// client limits each kind's requests on its own, so a stage of several
// kinds is planned at the sum of their rates instead of one kind's.
func interleaveKinds(objs []*object) []int {
	var groups [][]int
	for i, o := range objs {
		if i == 0 || o.ref.GroupKind() != objs[i-1].ref.GroupKind() {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], i)
	}
	out := make([]int, 0, len(objs))
	for len(out) < len(objs) {
		for g := range groups {
			if len(groups[g]) > 0 {
				out = append(out, groups[g][0])
				groups[g] = groups[g][1:]
			}
		}
	}
	return out
}

// executeTier writes the plans of one kind (plans are sorted by kind) at
// once, up to opts.concurrency() at a time: objects of one kind do not
// depend on each other, while kinds keep Flux's order (service accounts
// before role bindings, workloads before webhook configurations). The
// change set gets every object written, in order, even when another of
// the tier failed; the next kind is not started after a failure.
func (m *Manager) executeTier(ctx context.Context, plans []*plan, cs *ChangeSet, opts ApplyOptions) error {
	rvs := make([]string, len(plans))
	errs := make([]error, len(plans))
	sem := make(chan struct{}, opts.concurrency())
	var wg sync.WaitGroup
	for i, p := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			rvs[i], errs[i] = m.execute(ctx, p, opts)
		}()
	}
	wg.Wait()
	for i, p := range plans {
		if errs[i] == nil {
			cs.addVersion(p.obj.ref, p.action, rvs[i])
		}
	}
	return errors.Join(errs...)
}

// plan reads the live object, hands over the fields of kubectl and the
// like, and dry-runs the apply to find out whether the object is new,
// drifted or unchanged.
func (m *Manager) plan(ctx context.Context, o *object, rules []ignoreRule, opts ApplyOptions) (*plan, error) {
	if p := m.planNew(ctx, o, opts); p != nil {
		return p, nil
	}
	if p := m.planCached(ctx, o, rules, opts); p != nil {
		return p, nil
	}
	res := m.resource(o)
	paths := ignoredPaths(rules, o.desired)
	cleanedAny := false // a cleanup patch, on any attempt, is a change
	for attempt := 0; ; attempt++ {
		live, err := res.Get(ctx, o.ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			live = nil
		case err != nil:
			return nil, objectError(o.ref, "get", err, o.desired)
		}
		if m.owner.skipApply(o.desired, live) {
			return &plan{obj: o, live: live, action: Skipped}, nil
		}
		if live != nil && !m.owner.merge(o.desired, live) {
			patched, cleaned, err := m.cleanup(ctx, o, live, opts.OverrideManagers)
			if err != nil {
				return nil, objectError(o.ref, "managed fields cleanup", err, o.desired, live)
			}
			live, cleanedAny = patched, cleanedAny || cleaned
		}
		p := &plan{obj: o, live: live}
		p.payload = o.desired.DeepCopy()
		if p.live != nil {
			m.adoptIgnored(p.payload, p.live, paths)
		}
		dry, err := m.apply(ctx, o, p.payload, true)
		if err != nil {
			if p.live != nil && immutable(err) && (opts.Force || m.owner.force(o.desired, p.live)) {
				p.payload, p.action, p.recreate = o.desired.DeepCopy(), Created, true
				return p, nil
			}
			if immutable(err) {
				return nil, &ObjectError{Ref: o.ref, Op: "dry-run", Err: err,
					hint:    "enable force or annotate the object with " + m.owner.key("force") + ": Enabled to recreate it",
					secrets: secretValues(p.payload, p.live, o.desired)}
			}
			return nil, objectError(o.ref, "dry-run", err, p.payload, p.live, o.desired)
		}
		// The dry-run saw a newer object than the one read: read again, so
		// that a change made meanwhile is not taken for drift.
		if p.live != nil && dry.GetResourceVersion() != p.live.GetResourceVersion() && attempt < 3 {
			continue
		}
		switch {
		case p.live == nil:
			p.action = Created
		case cleanedAny || drifted(dry, p.live, paths):
			p.action = Configured
		default:
			p.action = Unchanged
		}
		return p, nil
	}
}

// planNew is the fast path for an object the previous inventory does not
// list: the dry-run comes first, and when it creates the object (a dry-run
// create has no resourceVersion) there is nothing live to read, merge or
// compare. It returns nil when the object exists, the dry-run fails or the
// object may not be new: plan then takes the full path, which reports
// errors.
func (m *Manager) planNew(ctx context.Context, o *object, opts ApplyOptions) *plan {
	if opts.previous == nil || opts.previous[o.ref.ID()] || m.owner.skipApply(o.desired, nil) {
		return nil
	}
	dry, err := m.apply(ctx, o, o.desired, true)
	if err != nil || dry.GetResourceVersion() != "" {
		return nil
	}
	return &plan{obj: o, payload: o.desired.DeepCopy(), action: Created}
}

// planCached is the fast path for an object the previous inventory lists
// and opts.Cached holds: the dry-run comes first, and when it was made
// against the cached copy (the same resourceVersion) the copy is the live
// object, and the read is saved. It returns nil when plan must take the
// full path: no cached copy or a stale one, ignore rules or an ssa
// annotation for the object, managed fields or annotations of kubectl and
// the like to hand over (the dry-run's managed fields show them), or a
// failed dry-run, which the full path reports.
func (m *Manager) planCached(ctx context.Context, o *object, rules []ignoreRule, opts ApplyOptions) *plan {
	if opts.Cached == nil || o.mapping == nil || !opts.previous[o.ref.ID()] || len(ignoredPaths(rules, o.desired)) > 0 {
		return nil
	}
	cached, ok := opts.Cached(o.ref, o.mapping.Resource)
	if !ok || m.owner.skipApply(o.desired, cached) || m.owner.merge(o.desired, cached) {
		return nil
	}
	dry, err := m.apply(ctx, o, o.desired, true)
	if err != nil || dry.GetResourceVersion() != cached.GetResourceVersion() {
		return nil
	}
	if patch, err := m.owner.cleanupPatch(dry, m.owner.cleanupRules(opts.OverrideManagers), true); err != nil || patch != nil {
		return nil
	}
	p := &plan{obj: o, payload: o.desired.DeepCopy(), live: cached, action: Unchanged}
	if drifted(dry, cached, nil) {
		p.action = Configured
	}
	return p
}

// adoptIgnored fits the ignored fields of payload to the live object: a
// field the owner alone applies keeps its live value; any other is left
// out, so that its current manager keeps it.
func (m *Manager) adoptIgnored(payload, live *unstructured.Unstructured, paths [][]string) {
	for _, path := range paths {
		v, ok := getPath(live.Object, path)
		if ok {
			if own, other := m.owner.owners(live, path); own && !other && setPath(payload.Object, path, v) {
				continue
			}
		}
		removePath(payload.Object, path)
	}
}

// execute writes what plan decided and returns the object's resulting
// resourceVersion ("" for a skipped object that does not exist).
func (m *Manager) execute(ctx context.Context, p *plan, opts ApplyOptions) (string, error) {
	if p.action != Created && p.action != Configured {
		if p.live != nil {
			return p.live.GetResourceVersion(), nil
		}
		return "", nil
	}
	if p.recreate {
		if err := m.deleteAndWait(ctx, p.obj, p.live, opts.waitTimeout()); err != nil {
			return "", err
		}
	}
	applied, err := m.apply(ctx, p.obj, p.payload, false)
	if err != nil {
		return "", objectError(p.obj.ref, "apply", err, p.payload, p.live, p.obj.desired)
	}
	return applied.GetResourceVersion(), nil
}

// apply runs a server-side apply of payload, forcing conflicts.
func (m *Manager) apply(ctx context.Context, o *object, payload *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	opts := metav1.ApplyOptions{FieldManager: m.owner.Field, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return m.resource(o).Apply(ctx, o.ref.Name, payload, opts)
}

func (m *Manager) resource(o *object) dynamic.ResourceInterface {
	return m.resourceFor(o.mapping, o.ref.Namespace)
}

func (m *Manager) resourceFor(mapping *meta.RESTMapping, namespace string) dynamic.ResourceInterface {
	r := m.client.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return r.Namespace(namespace)
	}
	return r
}

// drifted compares the dry-run result with the live object, leaving out
// the metadata that changes on every write and the ignored paths.
func drifted(dry, live *unstructured.Unstructured, ignored [][]string) bool {
	a, b := dry.DeepCopy().Object, live.DeepCopy().Object
	for _, obj := range []map[string]any{a, b} {
		for _, f := range []string{"managedFields", "resourceVersion", "generation"} {
			unstructured.RemoveNestedField(obj, "metadata", f)
		}
		for _, path := range ignored {
			removePath(obj, path)
		}
	}
	return !reflect.DeepEqual(a, b)
}
