package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
)

// pollInterval is the period of the bounded waits on cluster state.
const pollInterval = 250 * time.Millisecond

// resolveKinds finds the kinds of the objects whose CustomResourceDefinition
// came in the same set, waiting until the API server serves them.
func (m *Manager) resolveKinds(ctx context.Context, objs []*object, timeout time.Duration) error {
	var pending []*object
	for _, o := range objs {
		if o.mapping == nil {
			pending = append(pending, o)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	var last error
	err := wait.PollUntilContextTimeout(ctx, pollInterval, timeout, true, func(context.Context) (bool, error) {
		m.mapper.Reset()
		var errs []error
		for _, o := range pending {
			if o.mapping != nil {
				continue
			}
			mapping, err := m.mapper.RESTMapping(o.ref.GroupKind(), o.ref.Version)
			if err != nil {
				errs = append(errs, objectError(o.ref, "mapping", err))
				continue
			}
			o.mapping = mapping
		}
		last = errors.Join(errs...)
		return last == nil, nil
	})
	if err != nil {
		if last != nil {
			return last
		}
		return err
	}
	var errs []error
	for _, o := range pending {
		errs = append(errs, o.setScope())
	}
	return errors.Join(errs...)
}

// waitReady waits until the objects the stage applied are ready:
// CustomResourceDefinitions established with their names accepted,
// Namespaces active, anything else present.
func (m *Manager) waitReady(ctx context.Context, objs []*object, done *ChangeSet, timeout time.Duration) error {
	skipped := map[string]bool{}
	for _, e := range done.Entries {
		skipped[e.Ref.ID()] = e.Action == Skipped
	}
	var errs []error
	for _, o := range objs {
		if skipped[o.ref.ID()] {
			continue
		}
		var why string
		err := wait.PollUntilContextTimeout(ctx, pollInterval, timeout, true, func(ctx context.Context) (bool, error) {
			live, err := m.resource(o).Get(ctx, o.ref.Name, metav1.GetOptions{})
			if err != nil {
				why = err.Error()
				return false, nil
			}
			why = notReady(live)
			return why == "", nil
		})
		if err != nil {
			errs = append(errs, objectError(o.ref, "wait", fmt.Errorf("not ready after %s: %s", timeout, why), o.desired))
		}
	}
	return errors.Join(errs...)
}

// notReady says why a definition is not ready yet; "" when it is.
func notReady(obj *unstructured.Unstructured) string {
	switch obj.GetKind() {
	case "CustomResourceDefinition":
		var missing []string
		for _, t := range []string{"Established", "NamesAccepted"} {
			if status, msg := condition(obj, t); status != "True" {
				missing = append(missing, fmt.Sprintf("%s is %q %s", t, status, msg))
			}
		}
		return strings.TrimSpace(strings.Join(missing, "; "))
	case "Namespace":
		if phase, _, _ := unstructured.NestedString(obj.Object, "status", "phase"); phase != "Active" {
			return fmt.Sprintf("phase is %q", phase)
		}
	}
	return ""
}

func condition(obj *unstructured.Unstructured, kind string) (status, message string) {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		if cm["type"] == kind {
			status, _ = cm["status"].(string)
			message, _ = cm["message"].(string)
			return status, message
		}
	}
	return "", ""
}

// deleteAndWait deletes the live object with background propagation and
// waits until it is gone.
func (m *Manager) deleteAndWait(ctx context.Context, o *object, live *unstructured.Unstructured, timeout time.Duration) error {
	if err := m.deleteObject(ctx, o.mapping, o.ref, live); err != nil {
		return err
	}
	if err := m.waitGone(ctx, o.mapping, o.ref, live.GetUID(), timeout); err != nil {
		return objectError(o.ref, "wait", err, live, o.desired)
	}
	return nil
}

// deleteObject deletes the live object (the one with its UID), in the
// background; an object already gone is no error.
func (m *Manager) deleteObject(ctx context.Context, mapping *meta.RESTMapping, ref ObjectRef, live *unstructured.Unstructured) error {
	uid := live.GetUID()
	background := metav1.DeletePropagationBackground
	err := m.resourceFor(mapping, ref.Namespace).Delete(ctx, ref.Name, metav1.DeleteOptions{
		PropagationPolicy: &background,
		Preconditions:     &metav1.Preconditions{UID: &uid},
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) { // conflict: the UID changed, that object is gone
		return nil
	}
	return objectError(ref, "delete", err, live)
}

// waitGone waits until the object with the given UID no longer exists.
func (m *Manager) waitGone(ctx context.Context, mapping *meta.RESTMapping, ref ObjectRef, uid types.UID, timeout time.Duration) error {
	res := m.resourceFor(mapping, ref.Namespace)
	var last error
	err := wait.PollUntilContextTimeout(ctx, pollInterval/5, timeout, true, func(ctx context.Context) (bool, error) {
		live, err := res.Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return true, nil
		case err != nil:
			last = err
			return false, nil
		}
		return live.GetUID() != uid, nil
	})
	if err != nil {
		if last != nil {
			return fmt.Errorf("still present after %s: %w", timeout, last)
		}
		return fmt.Errorf("still present after %s", timeout)
	}
	return nil
}
