package helmrelease

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/helmdrift"
)

// Labels are anyone's to write: an object that names a release in its
// origin labels reconciles it only if the release's inventory lists that
// very object (kind, group, namespace, name), so a tenant labelling its
// own objects after another tenant's release cannot make it run.
func TestADriftEditMustBeInTheInventory(t *testing.T) {
	hr := &helmv2.HelmRelease{Status: helmv2.HelmReleaseStatus{Inventory: &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{
		{ID: "team-a_web__ConfigMap", Version: "v1"},
		{ID: "team-a_web_apps_Deployment", Version: "v1"},
		{ID: "_web-admin_rbac.authorization.k8s.io_ClusterRole", Version: "v1"},
	}}}}
	edit := func(group, kind, ns, name string) helmdrift.Edit {
		return helmdrift.Edit{GVK: schema.GroupVersionKind{Group: group, Version: "v1", Kind: kind}, Namespace: ns, Name: name}
	}
	cases := []struct {
		e    helmdrift.Edit
		want bool
	}{
		{edit("", "ConfigMap", "team-a", "web"), true},
		{edit("apps", "Deployment", "team-a", "web"), true},
		{edit("rbac.authorization.k8s.io", "ClusterRole", "", "web-admin"), true},
		{edit("", "ConfigMap", "team-b", "web"), false},     // same name, the attacker's namespace
		{edit("", "Secret", "team-a", "web"), false},        // same name, another kind
		{edit("apps", "ConfigMap", "team-a", "web"), false}, // another group
		{edit("", "ConfigMap", "team-a", "web2"), false},
	}
	for _, c := range cases {
		if got := inInventory(hr, c.e); got != c.want {
			t.Errorf("%+v: in inventory = %v, want %v", c.e, got, c.want)
		}
	}
	if inInventory(&helmv2.HelmRelease{}, cases[0].e) {
		t.Error("a release without an inventory claimed an object")
	}
}

func TestOptedOutOfDrift(t *testing.T) {
	for _, c := range []struct {
		labels, annotations map[string]string
		want                bool
	}{
		{nil, map[string]string{helmdrift.OptOutKey: "disabled"}, true},
		{map[string]string{helmdrift.OptOutKey: "Disabled"}, nil, true},
		{nil, map[string]string{helmdrift.OptOutKey: "enabled"}, false},
		{nil, nil, false},
	} {
		if got := optedOutOfDrift(helmdrift.Edit{Labels: c.labels, Annotations: c.annotations}); got != c.want {
			t.Errorf("labels %v annotations %v: opted out = %v", c.labels, c.annotations, got)
		}
	}
}

func TestDriftWatchedReleases(t *testing.T) {
	inventory := &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{{ID: "team-a_web__ConfigMap", Version: "v1"}}}
	for _, c := range []struct {
		name string
		hr   helmv2.HelmRelease
		want bool
	}{
		{"enabled", helmv2.HelmRelease{Spec: helmv2.HelmReleaseSpec{DriftDetection: &helmv2.DriftDetection{Mode: helmv2.DriftDetectionEnabled}},
			Status: helmv2.HelmReleaseStatus{Inventory: inventory}}, true},
		{"warn", helmv2.HelmRelease{Spec: helmv2.HelmReleaseSpec{DriftDetection: &helmv2.DriftDetection{Mode: helmv2.DriftDetectionWarn}},
			Status: helmv2.HelmReleaseStatus{Inventory: inventory}}, true},
		{"disabled", helmv2.HelmRelease{Status: helmv2.HelmReleaseStatus{Inventory: inventory}}, false},
		{"no inventory yet", helmv2.HelmRelease{Spec: helmv2.HelmReleaseSpec{DriftDetection: &helmv2.DriftDetection{Mode: helmv2.DriftDetectionEnabled}}}, false},
		// Its objects are on another cluster: a local object of the same
		// name must not trigger it.
		{"remote cluster", helmv2.HelmRelease{Spec: helmv2.HelmReleaseSpec{DriftDetection: &helmv2.DriftDetection{Mode: helmv2.DriftDetectionEnabled},
			KubeConfig: &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "remote"}}},
			Status: helmv2.HelmReleaseStatus{Inventory: inventory}}, false},
	} {
		if got := driftWatched(&c.hr); got != c.want {
			t.Errorf("%s: watched = %v, want %v", c.name, got, c.want)
		}
	}
}
