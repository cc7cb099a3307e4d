package artifactgenerator

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	swv1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/reconcile"
)

// prune deletes, with their files, the ExternalArtifacts this generator
// made that no output produced this time (an output gone from the spec, a
// directory gone from the pathPattern), then records the inventory and the
// sources digest.
func (r *Reconciler) prune(ctx context.Context, obj *swv1.ArtifactGenerator, p *reconcile.Pass, st *State) error {
	if st.upToDate {
		return nil
	}
	keep := map[string]bool{}
	for _, ea := range st.written {
		keep[ea.Name] = true
	}
	owned, err := r.owned(ctx, obj)
	if err != nil {
		return reconcile.Failed(ReconciliationFailedReason, "list the generated ExternalArtifacts: %w", err)
	}
	for i := range owned {
		ea := &owned[i]
		if keep[ea.Name] {
			continue
		}
		if err := r.remove(ctx, ea); err != nil {
			return reconcile.Failed(ReconciliationFailedReason, "%w", err)
		}
		p.Event(corev1.EventTypeNormal, "ExternalArtifactDeleted", fmt.Sprintf("ExternalArtifact %s/%s deleted: no output produces it any more", ea.Namespace, ea.Name))
	}
	obj.Status.Inventory = nil
	for _, ea := range st.written {
		obj.Status.Inventory = append(obj.Status.Inventory, inventoryEntry(ea))
	}
	obj.Status.ObservedSourcesDigest = st.digest
	r.published.remember(obj, st.digest, st.written)
	return nil
}

// owned lists the ExternalArtifacts of obj's namespace that carry its
// generator label, inventory or not (a pass that failed midway may have
// created some).
func (r *Reconciler) owned(ctx context.Context, obj *swv1.ArtifactGenerator) ([]sourcev1.ExternalArtifact, error) {
	list := &sourcev1.ExternalArtifactList{}
	if err := r.Client.List(ctx, list, client.InNamespace(obj.Namespace), client.MatchingLabels{swv1.GeneratorLabel: string(obj.UID)}); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// remove deletes an ExternalArtifact and its files.
func (r *Reconciler) remove(ctx context.Context, ea *sourcev1.ExternalArtifact) error {
	if err := r.Client.Delete(ctx, ea); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete ExternalArtifact %s/%s: %w", ea.Namespace, ea.Name, err)
	}
	unlock, err := r.Storage.Lock(sourcev1.ExternalArtifactKind, ea.Namespace, ea.Name)
	if err != nil {
		return fmt.Errorf("delete the files of ExternalArtifact %s/%s: %w", ea.Namespace, ea.Name, err)
	}
	defer unlock()
	if err := r.Storage.RemoveAll(sourcev1.ExternalArtifactKind, ea.Namespace, ea.Name); err != nil {
		return fmt.Errorf("delete the files of ExternalArtifact %s/%s: %w", ea.Namespace, ea.Name, err)
	}
	return nil
}

// finalize deletes every ExternalArtifact the generator made, with its
// files, before the generator goes.
func (r *Reconciler) finalize(ctx context.Context, obj *swv1.ArtifactGenerator, p *reconcile.Pass) error {
	r.published.forget(obj)
	owned, err := r.owned(ctx, obj)
	if err != nil {
		return fmt.Errorf("list the generated ExternalArtifacts: %w", err)
	}
	for i := range owned {
		if err := r.remove(ctx, &owned[i]); err != nil {
			return err
		}
		p.Event(corev1.EventTypeNormal, "ExternalArtifactDeleted", fmt.Sprintf("ExternalArtifact %s/%s deleted with its generator", owned[i].Namespace, owned[i].Name))
	}
	return nil
}
