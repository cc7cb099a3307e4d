package web

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/api/notification/v1beta3"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

// now is the injected clock of every test.
var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// secretValue is in a Secret of the store and must appear in no response.
const secretValue = "s3cr3t-t0ken-value"

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func cond(typ string, status metav1.ConditionStatus, reason, msg string, since time.Duration) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, LastTransitionTime: ago(since)}
}

func objMeta(ns, name string, gen int64) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, Generation: gen, CreationTimestamp: ago(48 * time.Hour),
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl-should-not-show"}}}
}

func kustomization(ns, name string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		ObjectMeta: objMeta(ns, name, 1),
		Spec: kustomizev1.KustomizationSpec{
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system", Namespace: "flux-system"},
			Path:      "./apps", Interval: metav1.Duration{Duration: 10 * time.Minute}, Prune: true,
		},
	}
}

// fixtures are the objects the golden pages show: one per state the
// brief names, and a Secret that must never show.
func fixtures() []kinds.Object {
	ready := kustomization("flux-system", "apps")
	ready.Generation = 2
	ready.Status = kustomizev1.KustomizationStatus{
		ReconcileRequestStatus: meta.ReconcileRequestStatus{LastHandledReconcileAt: "2026-12-07T11:50:00Z"},
		ObservedGeneration:     2,
		LastAppliedRevision:    "main@sha1:4f2c9e1d",
		LastAttemptedRevision:  "main@sha1:4f2c9e1d",
		Conditions: []metav1.Condition{
			cond(meta.ReadyCondition, metav1.ConditionTrue, meta.ReconciliationSucceededReason, "Applied revision: main@sha1:4f2c9e1d", 2*time.Hour),
		},
		Inventory: &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{
			{ID: "apps_podinfo_apps_Deployment", Version: "v1"}, {ID: "_apps__Namespace", Version: "v1"},
		}},
		History: []kustomizev1.Snapshot{{Digest: "sha256:aa", FirstReconciled: ago(2 * time.Hour), LastReconciled: ago(3 * time.Minute),
			LastReconciledDuration: metav1.Duration{Duration: 2 * time.Second}, LastReconciledStatus: "ReconciliationSucceeded", TotalReconciliations: 12}},
	}

	failing := kustomization("apps", "broken")
	failing.Generation = 3
	failing.Spec.Interval = metav1.Duration{Duration: 5 * time.Minute}
	failing.Status = kustomizev1.KustomizationStatus{
		ObservedGeneration:    2,
		LastAttemptedRevision: "main@sha1:9b1a",
		Conditions: []metav1.Condition{
			cond(meta.ReadyCondition, metav1.ConditionFalse, "BuildFailed",
				"kustomize build failed: accumulating resources\nmissing file ./apps/overlay/kustomization.yaml", 40*time.Minute),
		},
		History: []kustomizev1.Snapshot{{Digest: "sha256:bb", FirstReconciled: ago(3 * time.Hour), LastReconciled: ago(time.Hour),
			LastReconciledDuration: metav1.Duration{Duration: time.Second}, LastReconciledStatus: "BuildFailed", TotalReconciliations: 3}},
	}

	xss := kustomization("apps", "untrusted")
	xss.Status = kustomizev1.KustomizationStatus{
		ObservedGeneration: 1,
		Conditions: []metav1.Condition{
			cond(meta.ReadyCondition, metav1.ConditionFalse, "HealthCheckFailed", `<script>alert("owned")</script> & <b>bold</b>`, 5*time.Minute),
			cond(meta.StalledCondition, metav1.ConditionTrue, "HealthCheckFailed", `<img src=x onerror="alert(1)">`, 5*time.Minute),
		},
	}

	noStatus := &helmv2.HelmRelease{
		ObjectMeta: objMeta("apps", "podinfo", 1),
		Spec: helmv2.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: 5 * time.Minute},
			Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
				Chart: "podinfo", Version: "6.x",
				SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "podinfo"},
			}},
		},
	}

	size := int64(1234)
	suspended := &sourcev1.GitRepository{
		ObjectMeta: objMeta("flux-system", "flux-system", 1),
		Spec: sourcev1.GitRepositorySpec{
			URL: "ssh://git@example.com/fleet.git", Interval: metav1.Duration{Duration: time.Minute},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
			SecretRef: &meta.LocalObjectReference{Name: "flux-system"},
			Suspend:   true,
		},
		Status: sourcev1.GitRepositoryStatus{
			ObservedGeneration: 1,
			Conditions: []metav1.Condition{
				cond(meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason, "stored artifact for revision 'main@sha1:4f2c9e1d'", 6*time.Hour),
				cond(sourcev1.ArtifactInStorageCondition, metav1.ConditionTrue, meta.SucceededReason, "stored artifact for revision 'main@sha1:4f2c9e1d'", 6*time.Hour),
			},
			Artifact: &meta.Artifact{Revision: "main@sha1:4f2c9e1d", Digest: "sha256:cc", Size: &size,
				URL: "http://source-controller/gitrepository/flux-system/flux-system/4f2c9e1d.tar.gz", LastUpdateTime: ago(6 * time.Hour)},
		},
	}

	provider := &v1beta3.Provider{ObjectMeta: objMeta("flux-system", "slack", 1),
		Spec: v1beta3.ProviderSpec{Type: "generic", Address: "https://hooks.example.com/flux"}}
	alert := &v1beta3.Alert{ObjectMeta: objMeta("flux-system", "on-call", 1),
		Spec: v1beta3.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: "slack"}, EventSeverity: "error",
			EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: "Kustomization", Name: "*"}}}}

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "flux-system"},
		Data: map[string][]byte{"identity": []byte(secretValue)}, StringData: map[string]string{"password": secretValue}}

	return []kinds.Object{ready, failing, xss, noStatus, suspended, provider, alert, secret}
}
