package reconcile

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

func TestArtifactChanged(t *testing.T) {
	repo := func(a *meta.Artifact) *sourcev1.GitRepository {
		return &sourcev1.GitRepository{Status: sourcev1.GitRepositoryStatus{Artifact: a}}
	}
	v1 := &meta.Artifact{Revision: "main@sha1:1", Digest: "sha256:1"}
	for _, tc := range []struct {
		name     string
		old, new *meta.Artifact
		want     bool
	}{
		{"appeared", nil, v1, true},
		{"went away", v1, nil, true},
		{"none either side", nil, nil, false},
		{"same", v1, &meta.Artifact{Revision: "main@sha1:1", Digest: "sha256:1"}, false},
		{"new digest", v1, &meta.Artifact{Revision: "main@sha1:1", Digest: "sha256:2"}, true},
		{"new revision", v1, &meta.Artifact{Revision: "main@sha1:2", Digest: "sha256:1"}, true},
		{"new URL", v1, &meta.Artifact{Revision: "main@sha1:1", Digest: "sha256:1", URL: "http://storage/gitrepository/a/b/1.tar.gz"}, true},
	} {
		p := ArtifactChanged(false, false)
		if got := p.Update(event.UpdateEvent{ObjectOld: repo(tc.old), ObjectNew: repo(tc.new)}); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, c := range []struct{ create, delete bool }{{true, false}, {false, true}} {
		p := ArtifactChanged(c.create, c.delete)
		if p.Create(event.CreateEvent{Object: repo(v1)}) != c.create || p.Delete(event.DeleteEvent{Object: repo(v1)}) != c.delete {
			t.Errorf("creations and deletions do not pass as asked: %+v", c)
		}
	}
}
