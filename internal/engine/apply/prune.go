package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// PruneOptions say how Prune and DeleteAll delete objects.
type PruneOptions struct {
	// OwnerLabels must all be on an object for it to be deleted
	// (required); build them with Owner.Labels.
	OwnerLabels map[string]string
	// Wait waits until the deleted objects are gone.
	Wait bool
	// WaitTimeout bounds that wait; 0 means DefaultWaitTimeout.
	WaitTimeout time.Duration
}

// Prune deletes the stale objects, with background propagation, in the
// reverse of the apply order. It leaves alone objects that are gone, that
// no longer carry all the owner labels (another Kustomization took them
// over), or that opt out with prune: disabled, reconcile: disabled or
// ssa: Ignore; those are reported as skipped. When some deletes fail the
// error is a *DeleteError listing them (see FailedDeletes); the others are
// still deleted.
func (m *Manager) Prune(ctx context.Context, stale []ObjectRef, opts PruneOptions) (*ChangeSet, error) {
	cs := &ChangeSet{}
	if len(opts.OwnerLabels) == 0 {
		return cs, errors.New("prune: owner labels are required")
	}
	var failed []ObjectRef
	var errs []error
	type deleted struct {
		ref     ObjectRef
		mapping *meta.RESTMapping
		live    *unstructured.Unstructured
	}
	var gone []deleted
	for _, ref := range deleteOrder(stale) {
		mapping, live, err := m.getRef(ctx, ref)
		if err != nil {
			failed, errs = append(failed, ref), append(errs, err)
			continue
		}
		if live == nil {
			continue
		}
		if !hasLabels(live, opts.OwnerLabels) || m.owner.skipPrune(live) {
			cs.add(ref, Skipped)
			continue
		}
		if live.GetDeletionTimestamp() == nil {
			if err := m.deleteObject(ctx, mapping, ref, live); err != nil {
				failed, errs = append(failed, ref), append(errs, err)
				continue
			}
		}
		cs.add(ref, Deleted)
		gone = append(gone, deleted{ref, mapping, live})
	}
	if opts.Wait {
		timeout := opts.WaitTimeout
		if timeout <= 0 {
			timeout = DefaultWaitTimeout
		}
		for _, d := range gone {
			if err := m.waitGone(ctx, d.mapping, d.ref, d.live.GetUID(), timeout); err != nil {
				failed, errs = append(failed, d.ref), append(errs, objectError(d.ref, "wait for termination", err, d.live))
			}
		}
	}
	if len(errs) > 0 {
		return cs, &DeleteError{Failed: failed, Err: errors.Join(errs...)}
	}
	return cs, nil
}

// getRef reads the object ref names; nil when it, or its kind, is gone.
func (m *Manager) getRef(ctx context.Context, ref ObjectRef) (*meta.RESTMapping, *unstructured.Unstructured, error) {
	mapping, err := m.mapper.RESTMapping(ref.GroupKind(), ref.Version)
	if meta.IsNoMatchError(err) && ref.Version != "" {
		// The version may no longer be served while the kind still is.
		mapping, err = m.mapper.RESTMapping(ref.GroupKind())
	}
	if meta.IsNoMatchError(err) {
		m.mapper.Reset()
		mapping, err = m.mapper.RESTMapping(ref.GroupKind())
	}
	if meta.IsNoMatchError(err) {
		return nil, nil, nil // the kind is gone, and its objects with it
	}
	if err != nil {
		return nil, nil, objectError(ref, "mapping", err)
	}
	live, err := m.resourceFor(mapping, ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return mapping, nil, nil
	}
	if err != nil {
		return nil, nil, objectError(ref, "get", err)
	}
	return mapping, live, nil
}

func hasLabels(obj *unstructured.Unstructured, want map[string]string) bool {
	have := obj.GetLabels()
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// The deletion policies of DeleteAll, as spec.deletionPolicy spells them.
const (
	DeletionPolicyMirrorPrune        = "MirrorPrune"
	DeletionPolicyDelete             = "Delete"
	DeletionPolicyWaitForTermination = "WaitForTermination"
	DeletionPolicyOrphan             = "Orphan"
)

// DeleteAll deletes the objects of a Kustomization being deleted, as its
// spec.deletionPolicy says: MirrorPrune ("" too) deletes them when prune
// is true, Delete always, WaitForTermination always and waits until they
// are gone (bounded by opts.WaitTimeout), Orphan never. The same rules as
// Prune decide which objects may be deleted.
func (m *Manager) DeleteAll(ctx context.Context, objects []ObjectRef, policy string, prune bool, opts PruneOptions) (*ChangeSet, error) {
	switch policy {
	case "", DeletionPolicyMirrorPrune:
		if !prune {
			return &ChangeSet{}, nil
		}
		opts.Wait = false
	case DeletionPolicyDelete:
		opts.Wait = false
	case DeletionPolicyWaitForTermination:
		opts.Wait = true
	case DeletionPolicyOrphan:
		return &ChangeSet{}, nil
	default:
		return &ChangeSet{}, fmt.Errorf("spec.deletionPolicy: unknown policy %q: want %s, %s, %s or %s", policy,
			DeletionPolicyMirrorPrune, DeletionPolicyDelete,
			DeletionPolicyWaitForTermination, DeletionPolicyOrphan)
	}
	return m.Prune(ctx, objects, opts)
}
