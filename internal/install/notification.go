package install

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftless/driftless/internal/controller/names"
)

// notificationGroup is the --controllers name of the notification group.
const notificationGroup = "notification"

// notificationFiles are the notification component's Services and, with
// network policies, allow-webhooks: only when the component is installed.
func notificationFiles(o Options, controllers []string) []string {
	if !slices.Contains(controllers, notificationGroup) {
		return nil
	}
	files := []string{"manager/notification.yaml"}
	if o.NetworkPolicy {
		files = append(files, "manager/notification_network_policy.yaml")
	}
	return files
}

// selectNotificationPods points the notification objects (labelled with
// the component) at the pods that run it: the one Deployment's, or in the
// split layout notification-controller's.
func selectNotificationPods(obj *unstructured.Unstructured, o Options) error {
	if obj.GetLabels()["app.kubernetes.io/component"] != names.Deployment(notificationGroup) || !o.IsSplit() {
		return nil
	}
	app := names.Deployment(notificationGroup)
	switch obj.GetKind() {
	case "Service":
		return unstructured.SetNestedField(obj.Object, app, "spec", "selector", "app")
	case "NetworkPolicy":
		return unstructured.SetNestedField(obj.Object, app, "spec", "podSelector", "matchLabels", "app")
	}
	return nil
}

// eventsAddrArg is the --events-addr of a split Deployment that does not
// run the notification group while the install has one: the other
// controllers post their events to its Service, as Flux's do.
func eventsAddrArg(o Options, runs, controllers []string) (string, bool) {
	if !o.IsSplit() || !slices.Contains(controllers, notificationGroup) || slices.Contains(runs, notificationGroup) {
		return "", false
	}
	return "--events-addr=http://" + names.Deployment(notificationGroup) + ".$(RUNTIME_NAMESPACE).svc." +
		strings.TrimSuffix(o.ClusterDomain, ".") + "./", true
}
