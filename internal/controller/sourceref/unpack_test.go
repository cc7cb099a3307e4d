package sourceref

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// A source's artifact URL must be filed under that source on the storage
// server; a forged status naming another tenant's artifact is refused.
func TestCheckArtifactURL(t *testing.T) {
	const storage = "source-controller.flux-system.svc.cluster.local."
	repo := func(url string) *sourcev1.GitRepository {
		return &sourcev1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "app"},
			Status:     sourcev1.GitRepositoryStatus{Artifact: &meta.Artifact{URL: url}},
		}
	}
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://source-controller.flux-system.svc.cluster.local./gitrepository/team-a/app/6f1c.tar.gz", true},
		{"http://source-controller.flux-system.svc.cluster.local./gitrepository/team-b/app/6f1c.tar.gz", false},
		{"http://source-controller.flux-system.svc.cluster.local./gitrepository/team-a/app/../../team-b/app/6f1c.tar.gz", false},
		{"http://source-controller.flux-system.svc.cluster.local./ocirepository/team-a/app/6f1c.tar.gz", false},
		{"http://source-controller.flux-system.svc.cluster.local./gitrepository/team-a/application/6f1c.tar.gz", false},
	} {
		err := CheckArtifactURL(repo(tc.url), storage)
		if (err == nil) != tc.ok {
			t.Errorf("%s: error %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "gitrepository/team-a/app/") {
			t.Errorf("%s: error %q does not say where the artifact belongs", tc.url, err)
		}
	}
	// An ExternalArtifact's producer files it as it likes on its own
	// server, but on the storage server only under the ExternalArtifact's
	// own name: a tenant writing the status (a namespace admin may) must not
	// name another tenant's artifact there.
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://generator.team-a/anything.tar.gz", true},
		{"http://source-controller.flux-system.svc.cluster.local./externalartifact/team-a/gen/chart.tgz", true},
		{"http://source-controller.flux-system.svc.cluster.local:80/gitrepository/team-b/app/6f1c.tar.gz", false},
		{"http://SOURCE-CONTROLLER.flux-system.svc.cluster.local/helmchart/team-b/app/app-1.0.0.tgz", false},
		{"http://source-controller.flux-system.svc.cluster.local./externalartifact/team-a/gen/../../team-b/gen/chart.tgz", false},
		{"http://source-controller.flux-system.svc.cluster.local./externalartifact/team-b/gen/chart.tgz", false},
	} {
		external := &sourcev1.ExternalArtifact{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "gen"},
			Status:     sourcev1.ExternalArtifactStatus{Artifact: &meta.Artifact{URL: tc.url}},
		}
		err := CheckArtifactURL(external, storage)
		if (err == nil) != tc.ok {
			t.Errorf("ExternalArtifact at %s: error %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "externalartifact/team-a/gen/") {
			t.Errorf("%s: error %q does not say where the artifact belongs", tc.url, err)
		}
	}
}
