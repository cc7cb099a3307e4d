package helmchart

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// TestVersionMetadata checks the revisions Flux gives a chart: the source
// revision's first 12 hex characters under the Revision strategy, the
// generation with values files, both joined by a dot.
func TestVersionMetadata(t *testing.T) {
	const gitRev = "main@sha1:0123456789abcdef0123456789abcdef01234567"
	const bucketRev = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	cases := []struct {
		name     string
		strategy string
		values   []string
		source   string
		version  string
		want     string
	}{
		{"plain", "", nil, gitRev, "1.2.3", "1.2.3"},
		{"chart-version-strategy", sourcev1.ReconcileStrategyChartVersion, nil, gitRev, "1.2.3", "1.2.3"},
		{"revision-git", sourcev1.ReconcileStrategyRevision, nil, gitRev, "1.2.3", "1.2.3+0123456789ab"},
		{"revision-bucket", sourcev1.ReconcileStrategyRevision, nil, bucketRev, "1.2.3", "1.2.3+fedcba987654"},
		{"values", "", []string{"values.yaml"}, gitRev, "1.2.3", "1.2.3+7"},
		{"revision-and-values", sourcev1.ReconcileStrategyRevision, []string{"v.yaml"}, gitRev, "1.2.3", "1.2.3+0123456789ab.7"},
		{"replaces-metadata", "", []string{"v.yaml"}, "", "1.2.3+old", "1.2.3+7"},
		{"keeps-v-prefix", "", []string{"v.yaml"}, "", "v1.2.3", "v1.2.3+7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Generation: 7},
				Spec: sourcev1.HelmChartSpec{ReconcileStrategy: tc.strategy, ValuesFiles: tc.values}}
			got, err := withMetadata(tc.version, versionMetadata(obj, tc.source))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := withMetadata("not-semver", "7"); err == nil {
		t.Error("a version that is not semver took metadata")
	}
}

// TestOwnArtifact: a source status can only name a file of that source,
// whatever "../" it holds.
func TestOwnArtifact(t *testing.T) {
	for p, ok := range map[string]bool{
		"gitrepository/ns/app/abc.tar.gz":                    true,
		"gitrepository/ns/app/sub/../abc.tar.gz":             true,
		"gitrepository/ns/app/../other/abc.tar.gz":           false,
		"gitrepository/ns/app/../../tenant-b/app/abc.tar.gz": false,
		"gitrepository/ns/application/abc.tar.gz":            false,
		"helmrepository/ns/app/index-0123.yaml":              false,
		"gitrepository/ns/app":                               false,
		"/gitrepository/ns/app/abc.tar.gz":                   false,
	} {
		err := ownArtifact(sourcev1.GitRepositoryKind, "ns", "app", &meta.Artifact{Path: p})
		if (err == nil) != ok {
			t.Errorf("%s: accepted %v, want %v (%v)", p, err == nil, ok, err)
		}
	}
}
