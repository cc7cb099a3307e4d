package ocirepository_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/source/ocirepository"
	"github.com/driftless/driftless/internal/testkit/controllertest"
)

// TestRefKinds resolves every kind of spec.ref against one repository:
// the default tag latest, a tag, a semver range (highest match), a semver
// range with a filter reaching prereleases, a digest, and the precedence
// digest > semver > tag.
func TestRefKinds(t *testing.T) {
	reg := newRegistry(t, regOptions{})
	digests := map[string]string{}
	for _, tag := range []string{"0.9.0", "1.0.0", "1.2.0", "v1.5.0-rc.1", "1.6.0-rc.1", "2.0.0", "latest", "stable"} {
		digests[tag] = reg.pushFiles(t, "app", tag, map[string]string{"version": tag, "deploy/cm.yaml": "kind: ConfigMap"},
			map[string]string{"org.opencontainers.image.revision": "main@sha1:" + strings.Repeat("a", 40), "tag": tag})
	}
	ns := env.Namespace(t)
	cases := []struct {
		name    string
		ref     *sourcev1.OCIRepositoryRef
		wantTag string
		pinned  bool
	}{
		{name: "default-latest", ref: nil, wantTag: "latest"},
		{name: "tag", ref: &sourcev1.OCIRepositoryRef{Tag: "stable"}, wantTag: "stable"},
		{name: "semver", ref: &sourcev1.OCIRepositoryRef{SemVer: ">=1.0.0 <2.0.0"}, wantTag: "1.2.0"},
		{name: "semver-filter", ref: &sourcev1.OCIRepositoryRef{SemVer: ">=1.0.0-0", SemverFilter: ".*-rc.*"}, wantTag: "1.6.0-rc.1"},
		{name: "semver-filter-v", ref: &sourcev1.OCIRepositoryRef{SemVer: "1.5.x-0", SemverFilter: "^v"}, wantTag: "v1.5.0-rc.1"},
		{name: "semver-over-tag", ref: &sourcev1.OCIRepositoryRef{SemVer: "<1.0.0", Tag: "stable"}, wantTag: "0.9.0"},
		{name: "digest", ref: &sourcev1.OCIRepositoryRef{Digest: digests["1.0.0"]}, wantTag: "1.0.0", pinned: true},
		{name: "digest-over-all", ref: &sourcev1.OCIRepositoryRef{Digest: digests["2.0.0"], SemVer: "<1.0.0", Tag: "stable"}, wantTag: "2.0.0", pinned: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := create(t, ns, tc.name, sourcev1.OCIRepositorySpec{URL: reg.url("app"), Reference: tc.ref, Insecure: true})
			got := controllertest.WaitReady(t, kube, obj)
			d := digests[tc.wantTag]
			want := tc.wantTag + "@" + d
			if tc.pinned {
				want = d
			}
			a := got.Status.Artifact
			if a.Revision != want {
				t.Fatalf("revision %s, want %s", a.Revision, want)
			}
			hexDigest := strings.TrimPrefix(d, "sha256:")
			if wantPath := "ocirepository/" + ns + "/" + tc.name + "/" + hexDigest + ".tar.gz"; a.Path != wantPath {
				t.Errorf("path %s, want %s", a.Path, wantPath)
			}
			if f := controllertest.ArtifactFiles(t, a); f["version"] != tc.wantTag || f["deploy/cm.yaml"] != "kind: ConfigMap" {
				t.Errorf("files %v", f)
			}
			if a.Metadata["tag"] != tc.wantTag || a.Metadata[meta.OCIRevisionAnnotation] == "" {
				t.Errorf("metadata %v: want the manifest annotations", a.Metadata)
			}
			wantMsg := "stored artifact for digest '" + want + "'"
			if r := condition(got, meta.ReadyCondition); r.Reason != meta.SucceededReason || r.Message != wantMsg {
				t.Errorf("Ready %s %q, want %q", r.Reason, r.Message, wantMsg)
			}
			if c := condition(got, sourcev1.ArtifactInStorageCondition); c == nil || c.Message != wantMsg {
				t.Errorf("ArtifactInStorage %+v", c)
			}
			if !strings.HasSuffix(got.Status.URL, "/ocirepository/"+ns+"/"+tc.name+"/"+ocirepository.LatestLink) {
				t.Errorf("status.url %s", got.Status.URL)
			}
			if _, digest := download(t, got.Status.URL); digest != a.Digest {
				t.Errorf("status.url serves %s, the artifact is %s", digest, a.Digest)
			}
			controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, meta.SucceededReason, want)
		})
	}
}
