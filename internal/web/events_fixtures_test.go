package web

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Marks of the fixture events, which the tests look for: each is in one
// event's message and nowhere else on the pages.
const (
	evBuildFailed = "kustomize build failed: no such directory apps/overlay"
	evProgressing = "Reconciliation in progress (event)"
	evArtifact    = "stored artifact of fleet.git at main@sha1:4f2c9e1d"
	evHidden      = "Reconciliation finished in flux-system (event)"
	evOtherObject = "decoy: an event of another object"
	evOtherKind   = "decoy: an event of another kind with the same name"
)

// fixtureEvent is an event about kind apiVersion/kind namespace/name.
func fixtureEvent(id, apiVersion, kind, ns, name, typ, reason, msg string, since time.Duration, count int32) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: name + "." + id},
		InvolvedObject: corev1.ObjectReference{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name},
		Type:           typ, Reason: reason, Message: msg, Count: count,
		FirstTimestamp: ago(since + time.Hour), LastTimestamp: ago(since),
	}
}

// fixtureEvents are the Kubernetes Events the object pages show: the
// failing Kustomization's, its source's (in flux-system), the untrusted
// one's script, and decoys that no page of the fixtures may show.
func fixtureEvents() []runtime.Object {
	const ks, src = "kustomize.toolkit.fluxcd.io/v1", "source.toolkit.fluxcd.io/v1"
	return []runtime.Object{
		fixtureEvent("1", ks, "Kustomization", "apps", "broken", corev1.EventTypeWarning, "BuildFailed", evBuildFailed, 40*time.Minute, 3),
		fixtureEvent("0", ks, "Kustomization", "apps", "broken", corev1.EventTypeNormal, "Progressing", evProgressing, 3*time.Hour, 1),
		fixtureEvent("2", src, "GitRepository", "flux-system", "flux-system", corev1.EventTypeNormal, "NewArtifact", evArtifact, 2*time.Hour, 1),
		fixtureEvent("3", ks, "Kustomization", "flux-system", "apps", corev1.EventTypeNormal, "ReconciliationSucceeded", evHidden, 3*time.Minute, 1),
		fixtureEvent("4", ks, "Kustomization", "apps", "untrusted", corev1.EventTypeWarning, "HealthCheckFailed",
			`<script>alert(1)</script> & <b>bold</b>`, 5*time.Minute, 1),
		fixtureEvent("5", ks, "Kustomization", "apps", "other", corev1.EventTypeWarning, "Decoy", evOtherObject, time.Minute, 1),
		fixtureEvent("6", "helm.toolkit.fluxcd.io/v2", "HelmRelease", "apps", "broken", corev1.EventTypeWarning, "Decoy", evOtherKind, time.Minute, 1),
	}
}
