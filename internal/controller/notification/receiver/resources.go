package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/internal/engine/webhook"
)

// patchTimeout bounds a coalesced patch made after its request has ended.
const patchTimeout = 10 * time.Second

// requestReconcile annotates every object the Receiver's resources select
// and its filters keep, and returns how many could not be.
func (s *server) requestReconcile(ctx context.Context, obj *notificationv1.Receiver, req webhook.Result) int {
	log := s.log.WithValues("receiver", obj.Namespace+"/"+obj.Name)
	f, err := compileFilters(obj)
	if err != nil {
		log.Info("receiver filters do not compile", "error", err.Error())
		return len(obj.Spec.Resources)
	}
	failed := 0
	for i, res := range obj.Spec.Resources {
		targets, err := s.selectObjects(ctx, obj, res)
		if err != nil {
			log.Info("cannot select the objects of a resource", "resource", i, "error", err.Error())
			failed++
			continue
		}
		for _, t := range targets {
			keep, err := f.keep(ctx, i, t, req)
			if err != nil {
				log.Info("resource filter failed", "resource", i, "object", t.GetNamespace()+"/"+t.GetName(), "error", err.Error())
				failed++
				continue
			}
			if !keep {
				continue
			}
			if err := s.annotate(ctx, t); err != nil {
				log.Info("cannot request a reconciliation", "object", describe(t), "error", err.Error())
				failed++
			}
		}
	}
	return failed
}

// selectObjects returns the objects one resource entry names: by name, or
// '*' with matchLabels, in the Receiver's namespace unless it says another.
func (s *server) selectObjects(ctx context.Context, obj *notificationv1.Receiver, res notificationv1.ReceiverResource) ([]*metav1.PartialObjectMetadata, error) {
	gvk, err := resourceGVK(res)
	if err != nil {
		return nil, err
	}
	ns := res.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	if s.opts.NoCrossNamespaceRefs && ns != obj.Namespace {
		return nil, fmt.Errorf("%s '%s/%s' is in another namespace, which --no-cross-namespace-refs forbids", res.Kind, ns, res.Name)
	}
	if res.Name != "*" {
		t := &metav1.PartialObjectMetadata{}
		t.SetGroupVersionKind(gvk)
		if err := s.reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: res.Name}, t); err != nil {
			return nil, fmt.Errorf("get %s '%s/%s': %w", res.Kind, ns, res.Name, err)
		}
		return []*metav1.PartialObjectMetadata{t}, nil
	}
	if len(res.MatchLabels) == 0 {
		return nil, fmt.Errorf("%s name '*' needs matchLabels", res.Kind)
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := s.reader.List(ctx, list, client.InNamespace(ns), client.MatchingLabels(res.MatchLabels)); err != nil {
		return nil, fmt.Errorf("list %s in '%s': %w", res.Kind, ns, err)
	}
	out := make([]*metav1.PartialObjectMetadata, 0, len(list.Items))
	for i := range list.Items {
		t := &list.Items[i]
		t.SetGroupVersionKind(gvk)
		out = append(out, t)
	}
	return out, nil
}

// resourceGVK is the entry's kind at its apiVersion, or at Flux's version
// of the kind when it names none. Only Flux kinds are reconciled.
func resourceGVK(res notificationv1.ReceiverResource) (schema.GroupVersionKind, error) {
	version, ok := fluxVersion(res.Kind)
	if !ok {
		return schema.GroupVersionKind{}, fmt.Errorf("kind '%s' is not a Flux kind", res.Kind)
	}
	flux, err := schema.ParseGroupVersion(version)
	if err != nil || res.APIVersion == "" {
		return flux.WithKind(res.Kind), err
	}
	gv, err := schema.ParseGroupVersion(res.APIVersion)
	if err != nil {
		return schema.GroupVersionKind{}, fmt.Errorf("apiVersion '%s': %w", res.APIVersion, err)
	}
	if gv.Group != flux.Group {
		return schema.GroupVersionKind{}, fmt.Errorf("apiVersion '%s' is not the API group of Flux's %s (%s)", res.APIVersion, res.Kind, flux.Group)
	}
	return gv.WithKind(res.Kind), nil
}

// keep evaluates spec.resourceFilter and resource i's filter over t.
func (f *filters) keep(ctx context.Context, i int, t *metav1.PartialObjectMetadata, req webhook.Result) (bool, error) {
	if f.top == nil && f.resource[i] == nil {
		return true, nil
	}
	md, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&t.ObjectMeta)
	if err != nil {
		return false, fmt.Errorf("read the object's metadata: %w", err)
	}
	vars := webhook.Vars{Req: req.Payload, Claims: req.Claims, Res: map[string]any{
		"apiVersion": t.APIVersion, "kind": t.Kind, "metadata": md,
	}}
	for _, filter := range []*webhook.Filter{f.top, f.resource[i]} {
		if filter == nil {
			continue
		}
		ok, err := filter.Match(ctx, vars)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// annotate sets reconcile.fluxcd.io/requestedAt on t, at most once a
// second per object: requests in between share one patch at its end.
func (s *server) annotate(_ context.Context, t *metav1.PartialObjectMetadata) error {
	target := t.DeepCopy()
	key := t.GroupVersionKind().String() + "/" + t.Namespace + "/" + t.Name
	patch := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), patchTimeout)
		defer cancel()
		body, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
			meta.ReconcileRequestAnnotation: time.Now().Format(time.RFC3339Nano),
		}}})
		if err != nil {
			return err
		}
		return s.client.Patch(ctx, target, client.RawPatch(types.MergePatchType, body))
	}
	return s.coalescer.do(key, patch, func(err error) {
		s.log.Error(err, "coalesced reconcile request failed", "object", describe(target))
	})
}

func describe(t *metav1.PartialObjectMetadata) string {
	return fmt.Sprintf("%s/%s/%s", t.Kind, t.Namespace, t.Name)
}
