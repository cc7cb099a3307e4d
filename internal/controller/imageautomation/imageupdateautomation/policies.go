package imageupdateautomation

import (
	"context"
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/imageupdate"
	"github.com/driftless/driftless/internal/reconcile"
)

// selected are the policies a run writes: the setters' map and the
// observedPolicies status.
type selected struct {
	images   map[string]imageupdate.Image
	observed imagev1.ObservedPolicies
}

// reconcilePolicies lists the ImagePolicies of the automation's namespace
// that policySelector selects and that have a latestRef, and checks the
// update strategy.
func (r *Reconciler) reconcilePolicies(ctx context.Context, obj *imagev1.ImageUpdateAutomation, _ *reconcile.Pass, s *Run) error {
	if u := obj.Spec.Update; u != nil && u.Strategy != "" && u.Strategy != imagev1.UpdateStrategySetters {
		return reconcile.Stalling(imagev1.InvalidUpdateStrategyReason, "update strategy '%s' not supported", u.Strategy)
	}
	sel, err := policySelector(obj)
	if err != nil {
		return reconcile.Stalling(imagev1.InvalidPolicySelectorReason, "failed to parse policy selector: %s", err)
	}
	var list imagev1.ImagePolicyList
	if err := r.Client.List(ctx, &list, client.InNamespace(obj.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return reconcile.Failed(meta.ReconciliationFailedReason, "list ImagePolicies: %w", err)
	}
	s.policies = selected{images: map[string]imageupdate.Image{}, observed: imagev1.ObservedPolicies{}}
	for _, pol := range list.Items {
		ref := pol.Status.LatestRef
		if ref == nil {
			continue
		}
		s.policies.images[pol.Namespace+":"+pol.Name] = imageupdate.Image{Name: ref.Name, Tag: ref.Tag, Digest: ref.Digest}
		s.policies.observed[pol.Name] = *ref
	}
	return nil
}

func policySelector(obj *imagev1.ImageUpdateAutomation) (labels.Selector, error) {
	if obj.Spec.PolicySelector == nil {
		return labels.Everything(), nil
	}
	return metav1.LabelSelectorAsSelector(obj.Spec.PolicySelector)
}

// selecting lists the automations of the policy's namespace that select it.
func (r *Reconciler) selecting(ctx context.Context, pol client.Object) []ctrl.Request {
	var list imagev1.ImageUpdateAutomationList
	if err := r.Client.List(ctx, &list, client.InNamespace(pol.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "list ImageUpdateAutomations for an ImagePolicy")
		return nil
	}
	var reqs []ctrl.Request
	for i := range list.Items {
		sel, err := policySelector(&list.Items[i])
		if err != nil || !sel.Matches(labels.Set(pol.GetLabels())) {
			continue
		}
		reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

// latestRefChanged lets through a policy whose latestRef or labels changed,
// and one that appears or goes with a latestRef.
func latestRefChanged() predicate.Predicate {
	has := func(o client.Object) bool {
		p, ok := o.(*imagev1.ImagePolicy)
		return ok && p.Status.LatestRef != nil
	}
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return has(e.Object) },
		DeleteFunc: func(e event.DeleteEvent) bool { return has(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*imagev1.ImagePolicy)
			n, ok2 := e.ObjectNew.(*imagev1.ImagePolicy)
			if !ok1 || !ok2 {
				return false
			}
			return !refEqual(o.Status.LatestRef, n.Status.LatestRef) || !maps.Equal(o.Labels, n.Labels)
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

func refEqual(a, b *imagev1.ImageRef) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
