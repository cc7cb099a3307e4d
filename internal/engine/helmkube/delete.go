package helmkube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/dynamic"
)

// waitDeleted waits until every object is gone, each on a watch of its own
// name from the version last read, so a deletion is seen the moment it
// happens. An object replaced by a new one of the same name (another UID)
// counts as deleted. On timeout the error names every object not seen gone.
func (w *Waiter) waitDeleted(ctx context.Context, resources kube.ResourceList, timeout time.Duration) error {
	for i, info := range resources {
		err := w.waitOneDeleted(ctx, info)
		if err == nil {
			continue
		}
		if ctx.Err() == nil {
			return err
		}
		var left []string
		for _, rest := range resources[i:] {
			left = append(left, objectName(rest))
		}
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		return fmt.Errorf("timed out after %s waiting for the deletion of %s", timeout, strings.Join(left, ", "))
	}
	return nil
}

func (w *Waiter) waitOneDeleted(ctx context.Context, info *resource.Info) error {
	client, err := w.resourceClient(info)
	if err != nil {
		return err
	}
	var uid types.UID
	if acc, err := apimeta.Accessor(info.Object); err == nil {
		uid = acc.GetUID()
	}
	for {
		obj, err := client.Get(ctx, info.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil:
			return fmt.Errorf("waiting for the deletion of %s: %w", objectName(info), err)
		case uid != "" && obj.GetUID() != uid:
			return nil
		}
		gone, err := watchGone(ctx, client, info.Name, obj.GetResourceVersion())
		if err != nil {
			return fmt.Errorf("waiting for the deletion of %s: %w", objectName(info), err)
		}
		if gone {
			return nil
		}
	}
}

// watchGone watches one name from resourceVersion until it is deleted
// (true), or the watch ends or expires (false: read the object again).
func watchGone(ctx context.Context, client dynamic.ResourceInterface, name, resourceVersion string) (bool, error) {
	wi, err := client.Watch(ctx, metav1.ListOptions{
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", name).String(),
		ResourceVersion: resourceVersion,
	})
	if err != nil {
		if apierrors.IsGone(err) || apierrors.IsResourceExpired(err) {
			return false, nil
		}
		return false, err
	}
	defer wi.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return false, ctx.Err()
			}
			switch ev.Type {
			case watch.Deleted:
				return true, nil
			case watch.Error:
				return false, nil
			}
		}
	}
}

func (w *Waiter) resourceClient(info *resource.Info) (dynamic.ResourceInterface, error) {
	mapping := info.Mapping
	if mapping == nil {
		gvk := kindOf(info)
		m, err := w.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return nil, fmt.Errorf("waiting for the deletion of %s: %w", objectName(info), err)
		}
		mapping = m
	}
	if mapping.Scope != nil && mapping.Scope.Name() == apimeta.RESTScopeNameRoot {
		return w.dynamic.Resource(mapping.Resource), nil
	}
	if info.Namespace == "" {
		return nil, errors.New("waiting for the deletion of " + objectName(info) + ": no namespace")
	}
	return w.dynamic.Resource(mapping.Resource).Namespace(info.Namespace), nil
}

// objectName is Kind/namespace/name, or Kind/name for a cluster-scoped
// object, as health writes objects.
func objectName(info *resource.Info) string {
	kind := kindOf(info).Kind
	if info.Namespace == "" {
		return kind + "/" + info.Name
	}
	return kind + "/" + info.Namespace + "/" + info.Name
}
