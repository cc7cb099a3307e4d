package helmrelease_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// driftBound is how long a drift reaction may take: far under the
// releases' hour-long interval, so only the watch can explain it.
const driftBound = 30 * time.Second

// webChart releases a ConfigMap <release>-web (message), a ConfigMap
// <release>-extra (ignored, kept), a ConfigMap <release>-optout that opted
// out of drift detection, and a Deployment <release>-app.
func webChart() *helmtest.Chart {
	return helmtest.ConfigMapChart("web", "1.0.0").
		Template("extra.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-extra
  namespace: {{ .Release.Namespace }}
data:
  ignored: "chart"
  kept: "chart"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-optout
  namespace: {{ .Release.Namespace }}
  annotations:
    helm.toolkit.fluxcd.io/driftDetection: disabled
data:
  kept: "chart"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-app
  namespace: {{ .Release.Namespace }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: {{ .Release.Name | quote }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name | quote }}}
    spec:
      containers:
      - name: app
        image: registry.example/app:1
`)
}

// within polls cond for driftBound, failing with what it waited for.
func within(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	if err := testcluster.Poll(driftBound, cond); err != nil {
		t.Fatalf("within %s: %s: %v", driftBound, what, err)
	}
}

// setData sets one key of a ConfigMap as kubectl edit would.
func setData(t *testing.T, ns, name, key, value string) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	cm.Namespace, cm.Name = ns, name
	controllertest.Update(t, kube, cm, func(cm *corev1.ConfigMap) { cm.Data[key] = value })
}

func dataIs(ns, name, key, want string) func() (bool, error) {
	return func() (bool, error) {
		cm := &corev1.ConfigMap{}
		if err := kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, cm); err != nil {
			return false, err
		}
		return cm.Data[key] == want, nil
	}
}

// With driftDetection enabled and an interval of an hour, a deleted
// Deployment is back and an edited value restored within seconds, as the
// watch reports them; ignored fields and objects that opted out are left
// as they were edited.
func TestDriftCorrectedOnWatchEvents(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, webChart())
	hr := release(t, ns, "live", "web", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.DriftDetection = &helmv2.DriftDetection{Mode: helmv2.DriftDetectionEnabled,
			Ignore: []helmv2.IgnoreRule{{Paths: []string{"/data/ignored"}}}}
	})
	controllertest.WaitReady(t, kube, hr)

	dep := &appsv1.Deployment{}
	key := types.NamespacedName{Namespace: ns, Name: "live-app"}
	if err := kube.Get(context.Background(), key, dep); err != nil {
		t.Fatal(err)
	}
	if err := kube.Delete(context.Background(), dep); err != nil {
		t.Fatal(err)
	}
	within(t, "the deleted Deployment re-created", func() (bool, error) {
		again := &appsv1.Deployment{}
		if err := kube.Get(context.Background(), key, again); apierrors.IsNotFound(err) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		return again.UID != dep.UID && again.DeletionTimestamp == nil, nil
	})

	// The ignored field and the opted-out object first; the value edited
	// last is restored by a pass that read them all.
	setData(t, ns, "live-extra", "ignored", "edited")
	setData(t, ns, "live-optout", "kept", "edited")
	setData(t, ns, "live-web", "message", "edited")
	within(t, "the edited value restored", dataIs(ns, "live-web", "message", "hello"))
	if ok, _ := dataIs(ns, "live-extra", "ignored", "edited")(); !ok {
		t.Error("an ignored field was restored")
	}
	if ok, _ := dataIs(ns, "live-optout", "kept", "edited")(); !ok {
		t.Error("an object annotated driftDetection: disabled was restored")
	}
	// A field of the same object outside the ignore rule is restored.
	setData(t, ns, "live-extra", "kept", "edited")
	within(t, "the non-ignored field restored", dataIs(ns, "live-extra", "kept", "chart"))
	if ok, _ := dataIs(ns, "live-extra", "ignored", "edited")(); !ok {
		t.Error("an ignored field was restored with its neighbour")
	}
	got := &helmv2.HelmRelease{}
	if err := kube.Get(context.Background(), client.ObjectKeyFromObject(hr), got); err != nil {
		t.Fatal(err)
	}
	if got.Status.LastReleaseRevision != 1 {
		t.Errorf("drift was corrected by an upgrade, not from the manifest: revision %d", got.Status.LastReleaseRevision)
	}
	controllertest.WaitEvent(t, env.Kube, got, "Normal", "DriftCorrected", "ConfigMap/"+ns+"/live-web")
}

// Under warn an edit is reported at once (the Drifted condition and a
// Warning event) and nothing is restored.
func TestDriftReportedOnWatchEvents(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, webChart())
	hr := release(t, ns, "look", "web", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.DriftDetection = &helmv2.DriftDetection{Mode: helmv2.DriftDetectionWarn}
	})
	controllertest.WaitReady(t, kube, hr)

	setData(t, ns, "look-web", "message", "edited")
	within(t, "Drifted=True", func() (bool, error) {
		got := &helmv2.HelmRelease{}
		if err := kube.Get(context.Background(), client.ObjectKeyFromObject(hr), got); err != nil {
			return false, err
		}
		c := condition(got, helmv2.DriftedCondition)
		return c != nil && c.Status == "True", nil
	})
	controllertest.WaitEvent(t, env.Kube, hr, "Warning", helmv2.DriftDetectedReason, "ConfigMap/"+ns+"/look-web")
	if ok, _ := dataIs(ns, "look-web", "message", "edited")(); !ok {
		t.Error("warn restored the edited value")
	}
}

// A release without drift detection is not reconciled by the edits of
// its objects: the edit stays, and the release's status is untouched,
// even after a release with drift detection in the same namespace was
// corrected from a later edit.
func TestNoDriftWatchWhenDisabled(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, webChart())
	off := release(t, ns, "off", "web", "")
	on := release(t, ns, "on", "web", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.DriftDetection = &helmv2.DriftDetection{Mode: helmv2.DriftDetectionEnabled}
	})
	before := controllertest.WaitReady(t, kube, off)
	controllertest.WaitReady(t, kube, on)

	setData(t, ns, "off-web", "message", "edited")
	setData(t, ns, "on-web", "message", "edited")
	within(t, "the enabled release's value restored", dataIs(ns, "on-web", "message", "hello"))
	if ok, _ := dataIs(ns, "off-web", "message", "edited")(); !ok {
		t.Error("a release without drift detection was corrected")
	}
	got := &helmv2.HelmRelease{}
	if err := kube.Get(context.Background(), client.ObjectKeyFromObject(off), got); err != nil {
		t.Fatal(err)
	}
	if c := condition(got, helmv2.DriftedCondition); c != nil {
		t.Errorf("a release without drift detection has Drifted %+v", c)
	}
	if r, b := condition(got, "Ready"), condition(before, "Ready"); r.LastTransitionTime != b.LastTransitionTime || r.Message != b.Message {
		t.Errorf("Ready changed: %+v, was %+v", r, b)
	}
}
