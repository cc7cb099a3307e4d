package kustomization

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/apply"
	"github.com/driftless/driftless/internal/engine/kubeerr"
	"github.com/driftless/driftless/internal/reconcile"
)

// finalize deletes the applied objects as spec.deletionPolicy says. It
// orphans them instead, and says so in an event, when nothing may delete
// them (the Kustomization is suspended: suspend-then-delete is how objects
// are handed over to another Kustomization) or nothing can: the identity it
// acts as, or its kubeconfig, is gone, or lost the right to delete, as when
// a tenant's namespace is being deleted. A finalizer that waited for those
// would hold the namespace in Terminating forever.
func (r *Reconciler) finalize(ctx context.Context, obj *kustomizev1.Kustomization, p *reconcile.Pass) error {
	inv := inventoryOf(obj.Status.Inventory)
	refs, err := inv.Refs()
	if err != nil {
		r.orphan(ctx, obj, p, fmt.Sprintf("its inventory cannot be read: %v", err))
		return nil
	}
	if len(refs) == 0 {
		return nil
	}
	policy := obj.GetDeletionPolicy()
	if policy == kustomizev1.DeletionPolicyOrphan || (policy == kustomizev1.DeletionPolicyMirrorPrune && !obj.Spec.Prune) {
		return nil
	}
	if obj.Spec.Suspend {
		r.orphan(ctx, obj, p, "the Kustomization is suspended")
		return nil
	}
	if why, err := r.cannotAct(ctx, obj); err != nil {
		return err
	} else if why != "" {
		r.orphan(ctx, obj, p, why)
		return nil
	}
	t, err := r.target(ctx, obj)
	if err != nil {
		var stalled *reconcile.StallingError
		if errors.As(err, &stalled) {
			r.orphan(ctx, obj, p, err.Error())
			return nil
		}
		return err
	}
	_, err = t.apply.DeleteAll(ctx, refs, policy, obj.Spec.Prune, apply.PruneOptions{
		OwnerLabels: Owner.Labels(obj.Name, obj.Namespace), WaitTimeout: obj.GetTimeout(),
	})
	if kubeerr.Forbidden(err) {
		r.orphan(ctx, obj, p, fmt.Sprintf("the identity it acts as may not delete them: %v", err))
		return nil
	}
	return err
}

// cannotAct says why the identity a Kustomization acts as is gone, or ""
// when it is there: its ServiceAccount or its kubeconfig Secret.
func (r *Reconciler) cannotAct(ctx context.Context, obj *kustomizev1.Kustomization) (string, error) {
	if sa := r.serviceAccount(obj); sa != "" {
		err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: sa}, &corev1.ServiceAccount{})
		if apierrors.IsNotFound(err) {
			return fmt.Sprintf("the ServiceAccount '%s/%s' it acts as no longer exists", obj.Namespace, sa), nil
		}
		if err != nil {
			return "", fmt.Errorf("get ServiceAccount '%s/%s': %w", obj.Namespace, sa, err)
		}
	}
	if kc := obj.Spec.KubeConfig; kc != nil && kc.SecretRef != nil {
		err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: kc.SecretRef.Name}, &corev1.Secret{})
		if apierrors.IsNotFound(err) {
			return fmt.Sprintf("its kubeconfig Secret '%s/%s' no longer exists", obj.Namespace, kc.SecretRef.Name), nil
		}
		if err != nil {
			return "", fmt.Errorf("get kubeconfig Secret '%s/%s': %w", obj.Namespace, kc.SecretRef.Name, err)
		}
	}
	return "", nil
}

// orphan leaves the inventory's objects on the cluster, and says why in the
// log and in an event.
func (r *Reconciler) orphan(ctx context.Context, obj *kustomizev1.Kustomization, p *reconcile.Pass, why string) {
	n := len(obj.Status.Inventory.Entries)
	msg := fmt.Sprintf("deleted none of the %d objects it applied, they stay on the cluster: %s", n, why)
	log.FromContext(ctx).Info("orphaning applied objects", "objects", n, "why", why)
	eventType, reason := corev1.EventTypeWarning, meta.PruneFailedReason
	if obj.Spec.Suspend {
		eventType, reason = corev1.EventTypeNormal, meta.SuspendedReason
	}
	p.Event(eventType, reason, msg)
}
