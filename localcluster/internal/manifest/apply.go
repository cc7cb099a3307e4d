package manifest

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
)

// FieldManager is the server-side apply field manager of applied objects.
const FieldManager = "localcluster"

// crdKind is the kind of CustomResourceDefinitions, which are applied first.
const crdKind = "CustomResourceDefinition"

// Applier applies objects to a cluster with server-side apply.
type Applier struct {
	Client dynamic.Interface
	// Mapper maps kinds to resources; it is reset once new CRDs are
	// established so that their kinds become known.
	Mapper meta.ResettableRESTMapper
	// Timeout bounds the wait for each CRD to be established.
	Timeout time.Duration
}

// discoveryWait is how long a kind that is not (yet) served is looked up
// again: long enough for a CRD established a moment ago to show up in
// discovery, short enough that a typo in a kind fails quickly.
const discoveryWait = 10 * time.Second

// Apply applies objs: first CustomResourceDefinitions and Namespaces, then,
// once every applied CRD is Established, everything else in order.
func (a *Applier) Apply(ctx context.Context, objs []*unstructured.Unstructured) error {
	first, rest := Order(objs)
	var crds []string
	for _, obj := range first {
		if err := a.applyOne(ctx, obj); err != nil {
			return err
		}
		if obj.GroupVersionKind().GroupKind() == (schema.GroupKind{Group: "apiextensions.k8s.io", Kind: crdKind}) {
			crds = append(crds, obj.GetName())
		}
	}
	for _, name := range crds {
		if err := a.waitEstablished(ctx, name); err != nil {
			return err
		}
	}
	if len(crds) > 0 {
		a.Mapper.Reset()
	}
	for _, obj := range rest {
		if err := a.applyOne(ctx, obj); err != nil {
			return err
		}
	}
	return nil
}

// Order splits objs into those that others may depend on (CRDs and
// Namespaces) and the rest, keeping the relative order of each.
func Order(objs []*unstructured.Unstructured) (first, rest []*unstructured.Unstructured) {
	for _, obj := range objs {
		gk := obj.GroupVersionKind().GroupKind()
		if gk == (schema.GroupKind{Group: "apiextensions.k8s.io", Kind: crdKind}) ||
			gk == (schema.GroupKind{Kind: "Namespace"}) {
			first = append(first, obj)
		} else {
			rest = append(rest, obj)
		}
	}
	return first, rest
}

func (a *Applier) applyOne(ctx context.Context, obj *unstructured.Unstructured) error {
	gvk := obj.GroupVersionKind()
	desc := fmt.Sprintf("%s %s", gvk.Kind, obj.GetName())
	var mapping *meta.RESTMapping
	var lastErr error
	// A kind served by a CRD applied just now may take a moment to appear in
	// discovery: look unknown kinds up again for a while.
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, discoveryWait, true, func(context.Context) (bool, error) {
		m, err := a.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) {
			lastErr = err
			a.Mapper.Reset()
			return false, nil
		}
		mapping = m
		return err == nil, err
	})
	if err != nil {
		if lastErr != nil && ctx.Err() == nil {
			err = lastErr
		}
		return fmt.Errorf("apply %s: %w", desc, err)
	}
	var ri dynamic.ResourceInterface = a.Client.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := obj.GetNamespace()
		if ns == "" {
			ns = metav1.NamespaceDefault
		}
		ri = a.Client.Resource(mapping.Resource).Namespace(ns)
		desc = fmt.Sprintf("%s %s/%s", gvk.Kind, ns, obj.GetName())
	}
	_, err = ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
	if err != nil {
		return fmt.Errorf("apply %s: %w", desc, err)
	}
	return nil
}

// waitEstablished waits for the CRD to report Established, and fails early
// when the API server refuses its names.
func (a *Applier) waitEstablished(ctx context.Context, name string) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, a.Timeout, true, func(ctx context.Context) (bool, error) {
		crd, err := a.Client.Resource(schema.GroupVersionResource{
			Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions",
		}).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		established, accepted, msg := crdConditions(crd)
		last = msg
		if accepted == "False" {
			return false, fmt.Errorf("names not accepted: %s", msg)
		}
		return established == "True", nil
	})
	if err != nil {
		if last != "" {
			return fmt.Errorf("wait for CustomResourceDefinition %s to be established (%s): %w", name, last, err)
		}
		return fmt.Errorf("wait for CustomResourceDefinition %s to be established: %w", name, err)
	}
	return nil
}

func crdConditions(crd *unstructured.Unstructured) (established, namesAccepted, message string) {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		cond, ok := c.(map[string]any)
		if !ok {
			continue
		}
		status, _ := cond["status"].(string)
		msg, _ := cond["message"].(string)
		switch cond["type"] {
		case "Established":
			established = status
		case "NamesAccepted":
			namesAccepted = status
			if status == "False" {
				message = msg
			}
		}
	}
	return established, namesAccepted, message
}
