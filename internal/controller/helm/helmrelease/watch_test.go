package helmrelease_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// valuesConfigMap is a ConfigMap of values with message, labelled for
// --watch-configs-label-selector when watched.
func valuesConfigMap(ns, name, message string, watched bool) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{ObjectMeta: metav1ObjectMeta(ns, name),
		Data: map[string]string{"values.yaml": "message: " + message + "\n"}}
	if watched {
		cm.Labels = map[string]string{"reconcile.fluxcd.io/watch": "Enabled"}
	}
	return cm
}

func setMessage(t *testing.T, ns, name, message string) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1ObjectMeta(ns, name)}
	controllertest.Update(t, kube, cm, func(cm *corev1.ConfigMap) {
		cm.Data["values.yaml"] = "message: " + message + "\n"
	})
}

// A labelled valuesFrom ConfigMap upgrades its release when it changes,
// with an interval of an hour; an unlabelled one waits for the next pass.
func TestValuesFromWatch(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	create(t, valuesConfigMap(ns, "watched", "one", true))
	create(t, valuesConfigMap(ns, "plain", "one", false))
	from := func(cm string) func(*helmv2.HelmRelease) {
		return func(hr *helmv2.HelmRelease) {
			hr.Spec.ValuesFrom = []meta.ValuesReference{{Kind: "ConfigMap", Name: cm}}
		}
	}
	watched := release(t, ns, "watched", "app", "", from("watched"))
	plain := release(t, ns, "plain", "app", "", from("plain"))
	controllertest.WaitReady(t, kube, watched)
	controllertest.WaitReady(t, kube, plain)
	// A pass queued while the first one ran (the HelmChart's artifact
	// arriving, say) may still be to come, and would read the new values:
	// one handled request later, the queue holds nothing of "plain".
	controllertest.RequestReconcile(t, kube, plain, "settled")
	before := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(plain), "the settling pass", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastHandledReconcileAt == "settled"
	})

	// The unlabelled change first, then the labelled one: both are
	// ConfigMap events, delivered in order by one informer, so had the
	// unlabelled one been watched, its release would have been queued
	// before the labelled one's.
	setMessage(t, ns, "plain", "two")
	setMessage(t, ns, "watched", "two")
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(watched), "the upgrade with the new values", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastReleaseRevision == 2 && o.Status.History[0].Status == "deployed"
	})
	if cm, err := configMap(t, ns, "watched-app"); err != nil || cm.Data["message"] != "two" {
		t.Errorf("the labelled change did not reach the release: %+v %v", cm.Data, err)
	}

	got := &helmv2.HelmRelease{}
	if err := kube.Get(t.Context(), client.ObjectKeyFromObject(plain), got); err != nil {
		t.Fatal(err)
	}
	if got.Status.LastAttemptedConfigDigest != before.Status.LastAttemptedConfigDigest || got.Status.LastReleaseRevision != 1 {
		t.Errorf("an unlabelled ConfigMap reconciled its release:\n%s", controllertest.Describe(got))
	}
	if cm, _ := configMap(t, ns, "plain-app"); cm.Data["message"] != "one" {
		t.Errorf("an unlabelled ConfigMap's change was released without a reconcile: %q", cm.Data["message"])
	}
	// The next pass reads it, as Flux.
	controllertest.RequestReconcile(t, kube, got, "read-plain")
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(plain), "the upgrade after a reconcile request", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastHandledReconcileAt == "read-plain" && o.Status.LastReleaseRevision == 2
	})
	if cm, _ := configMap(t, ns, "plain-app"); cm.Data["message"] != "two" {
		t.Errorf("the reconcile did not release the new values: %q", cm.Data["message"])
	}
}
