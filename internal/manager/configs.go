package manager

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DefaultWatchConfigsLabelSelector is Flux's --watch-configs-label-selector.
const DefaultWatchConfigsLabelSelector = "reconcile.fluxcd.io/watch=Enabled"

// WatchConfigsSelector parses --watch-configs-label-selector; an empty
// value is the default, never "everything": the shared cache would then
// hold every Secret of the cluster.
func (o Options) WatchConfigsSelector() (labels.Selector, error) {
	s := o.WatchConfigsLabelSelector
	if s == "" {
		s = DefaultWatchConfigsLabelSelector
	}
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("--watch-configs-label-selector %q: %w", s, err)
	}
	if sel.Empty() {
		return nil, fmt.Errorf("--watch-configs-label-selector %q selects every ConfigMap and Secret; give a label, such as %s", s, DefaultWatchConfigsLabelSelector)
	}
	return sel, nil
}

// WatchedConfigs is the Controller.Cache of a group that watches the
// ConfigMaps and Secrets its objects read: the shared cache keeps only
// those --watch-configs-label-selector selects. Secrets and ConfigMaps are
// otherwise read straight from the API server (the manager's APIReader),
// never through this narrowed cache.
func WatchedConfigs(o Options) (map[client.Object]cache.ByObject, error) {
	sel, err := o.WatchConfigsSelector()
	if err != nil {
		return nil, err
	}
	return map[client.Object]cache.ByObject{
		&corev1.ConfigMap{}: {Label: sel},
		&corev1.Secret{}:    {Label: sel},
	}, nil
}
