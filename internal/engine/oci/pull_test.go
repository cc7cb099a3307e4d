package oci

import (
	"archive/tar"
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/driftless/driftless/internal/testkit/tartest"
)

const helmMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"

func TestPullExtract(t *testing.T) {
	reg := startRegistry(t)
	c := insecureClient()
	repo := reg.repo("org/app")
	layer := tartest.TarGz(t,
		tartest.Entry{Name: "deploy/", Type: tar.TypeDir},
		tartest.Entry{Name: "deploy/app.yaml", Content: "kind: Deployment\n"},
		tartest.Entry{Name: "deploy/link", Type: tar.TypeSymlink, Linkname: "app.yaml"},
		tartest.Entry{Name: "cm.yaml", Content: "kind: ConfigMap\n"},
	)
	digest, err := c.Push(context.Background(), repo, "v1", layer, PushOptions{Source: "https://git.example/repo", Revision: "main@sha1:abc", Annotations: map[string]string{"team": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	got, err := c.Pull(context.Background(), repo, digest, PullOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if files := tree(t, dir); keys(files) != "cm.yaml,deploy/app.yaml" || files["deploy/app.yaml"] != "kind: Deployment\n" {
		t.Errorf("extracted %v, want cm.yaml and deploy/app.yaml without the symlink", files)
	}
	if got.Digest != digest || got.ManifestDigest != digest || got.MediaType != ContentMediaType || got.ConfigMediaType != ConfigMediaType {
		t.Errorf("pulled %+v", got)
	}
	if got.LayerDigest != sha256Of(layer) || got.Size != int64(len(layer)) {
		t.Errorf("layer %s (%d bytes), want %s (%d)", got.LayerDigest, got.Size, sha256Of(layer), len(layer))
	}
	if got.Annotations[AnnotationSource] != "https://git.example/repo" || got.Annotations[AnnotationRevision] != "main@sha1:abc" || got.Annotations["team"] != "a" {
		t.Errorf("annotations %v", got.Annotations)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("left %d entries beside the target, want only it", len(entries))
	}
}

func sha256Of(b []byte) string {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h.String()
}

func TestPullCopyAndLayerSelection(t *testing.T) {
	reg := startRegistry(t)
	c := insecureClient()
	repo := reg.repo("charts/podinfo")
	chart := tartest.TarGz(t, tartest.Entry{Name: "podinfo/Chart.yaml", Content: "Name: podinfo\n"})
	prov := []byte("-----BEGIN PGP SIGNED MESSAGE-----\n")
	img := imageWithLayers(t, map[string]string{"chart": "podinfo"},
		static.NewLayer(prov, "application/vnd.cncf.helm.chart.provenance.v1.prov"),
		static.NewLayer(chart, helmMediaType))
	digest := writeImage(t, repo, "6.0.0", img)

	file := filepath.Join(t.TempDir(), "chart.tgz")
	got, err := c.Pull(context.Background(), repo, digest, PullOptions{MediaType: helmMediaType, Operation: OperationCopy, File: file})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(file); !bytes.Equal(b, chart) {
		t.Errorf("copied %d bytes, not the layer verbatim", len(b))
	}
	if got.MediaType != helmMediaType || got.Annotations["chart"] != "podinfo" {
		t.Errorf("pulled %+v", got)
	}

	// The first layer by default: the provenance file, not a tarball.
	_, err = c.Pull(context.Background(), repo, digest, PullOptions{Dir: filepath.Join(t.TempDir(), "x")})
	wantKind(t, err, ErrInvalidArtifact, "is not a gzip-compressed tarball", "use operation copy")

	_, err = c.Pull(context.Background(), repo, digest, PullOptions{MediaType: ContentMediaType, Dir: t.TempDir()})
	wantKind(t, err, ErrLayerNotFound, `no layer of media type "`+ContentMediaType+`"`,
		"the layers are: application/vnd.cncf.helm.chart.provenance.v1.prov, "+helmMediaType)

	_, err = c.Pull(context.Background(), repo, digest, PullOptions{Operation: "move", Dir: t.TempDir()})
	if !IsStalling(err) {
		t.Errorf("operation move: %v, want a stalling error", err)
	}
}

func TestPullIndexReadsLinuxAmd64(t *testing.T) {
	reg := startRegistry(t)
	c := insecureClient()
	repo := reg.repo("multi")
	arm := imageWithLayers(t, map[string]string{"arch": "arm64"}, fluxLayer(tartest.TarGz(t, tartest.Entry{Name: "arch", Content: "arm64"})))
	amd := imageWithLayers(t, map[string]string{"arch": "amd64"}, fluxLayer(tartest.TarGz(t, tartest.Entry{Name: "arch", Content: "amd64"})))
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	idxDigest := writeImage(t, repo, "1.0.0", idx)
	amdDigest, _ := amd.Digest()

	res, err := c.Resolve(context.Background(), repo, Selector{Tag: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != idxDigest {
		t.Errorf("resolved %s, want the index digest %s", res.Digest, idxDigest)
	}
	dir := t.TempDir()
	got, err := c.Pull(context.Background(), repo, res.Digest, PullOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if files := tree(t, dir); files["arch"] != "amd64" {
		t.Errorf("extracted %v, want the amd64 content", files)
	}
	if got.Digest != idxDigest || got.ManifestDigest != amdDigest.String() || got.Annotations["arch"] != "amd64" {
		t.Errorf("pulled %+v", got)
	}

	armOnly := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	d := writeImage(t, repo, "arm", armOnly)
	_, err = c.Pull(context.Background(), repo, d, PullOptions{Dir: t.TempDir()})
	wantKind(t, err, ErrInvalidArtifact, "no linux/amd64 manifest (platforms: linux/arm64)")
}

// countBlobGets counts GETs of blobs.
func countBlobGets(n *atomic.Int64) wrapper {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				n.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	}
}

func TestPullSizeLimitBeforeDownload(t *testing.T) {
	var gets atomic.Int64
	reg := startRegistry(t, countBlobGets(&gets))
	c := insecureClient()
	repo := reg.repo("big")
	layer := tartest.TarGz(t, tartest.Entry{Name: "a", Content: strings.Repeat("x", 4096)})
	d, err := c.Push(context.Background(), repo, "1", layer, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gets.Store(0)
	_, err = c.Pull(context.Background(), repo, d, PullOptions{Dir: t.TempDir(), MaxSize: int64(len(layer)) - 1})
	wantKind(t, err, ErrTooLarge, "over the maximum of")
	if n := gets.Load(); n != 0 {
		t.Errorf("%d blob downloads, want none", n)
	}
}

// corruptBlob serves every blob of digest with one byte changed.
func corruptBlob(digest *atomic.Value) wrapper {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d, _ := digest.Load().(string)
			if d == "" || r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+d) {
				h.ServeHTTP(w, r)
				return
			}
			rec := &recorder{header: http.Header{}}
			h.ServeHTTP(rec, r)
			b := rec.body.Bytes()
			b[len(b)-1] ^= 0xff
			w.Header().Set("Content-Length", rec.header.Get("Content-Length"))
			_, _ = w.Write(b)
		})
	}
}

type recorder struct {
	header http.Header
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(int)             {}

func TestPullDigestMismatch(t *testing.T) {
	var bad atomic.Value
	reg := startRegistry(t, corruptBlob(&bad))
	c := insecureClient()
	repo := reg.repo("tampered")
	layer := tartest.TarGz(t, tartest.Entry{Name: "a", Content: "a"})
	d, err := c.Push(context.Background(), repo, "1", layer, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bad.Store(sha256Of(layer))
	for _, op := range []PullOptions{{Dir: filepath.Join(t.TempDir(), "x")}, {Operation: OperationCopy, File: filepath.Join(t.TempDir(), "f")}} {
		_, err = c.Pull(context.Background(), repo, d, op)
		wantKind(t, err, ErrDigestMismatch, "the registry sent a blob with digest")
		if _, statErr := os.Stat(op.Dir + op.File); !os.IsNotExist(statErr) {
			t.Errorf("%s was written from an unverified blob", op.Dir+op.File)
		}
	}
}

// bigManifest answers GETs of manifests by digest with 5 MiB.
func bigManifest(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/sha256:") {
			w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
			_, _ = w.Write(bytes.Repeat([]byte(" "), 5<<20))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestPullManifestSizeLimit(t *testing.T) {
	reg := startRegistry(t, bigManifest)
	_, err := insecureClient().Pull(context.Background(), reg.repo("x"), "sha256:"+strings.Repeat("c", 64), PullOptions{Dir: t.TempDir()})
	wantKind(t, err, ErrTooLarge, "the manifest is over the maximum of 4194304 bytes")
}

func TestPullRefusesUnsafeTarballs(t *testing.T) {
	reg := startRegistry(t)
	c := insecureClient()
	repo := reg.repo("unsafe")
	many := make([]tartest.Entry, 11)
	for i := range many {
		many[i] = tartest.Entry{Name: "f" + string(rune('a'+i)), Content: "x"}
	}
	for _, tc := range []struct {
		name  string
		layer []byte
		want  string
	}{
		{"gzip bomb", tartest.TarGz(t, tartest.Entry{Name: "zeros", Zeros: 64 << 20}), "exceed the maximum size"},
		{"too many files", tartest.TarGz(t, many...), "more than 10 entries"},
		{"parent", tartest.TarGz(t, tartest.Entry{Name: "../x", Content: "x"}), "path escapes the target directory"},
		{"absolute", tartest.TarGz(t, tartest.Entry{Name: "/etc/x", Content: "x"}), "absolute paths are not allowed"},
		{"device", tartest.TarGz(t, tartest.Entry{Name: "dev", Type: tar.TypeChar}), "unsupported type"},
		{"fifo", tartest.TarGz(t, tartest.Entry{Name: "fifo", Type: tar.TypeFifo}), "unsupported type"},
		{"hard link", tartest.TarGz(t, tartest.Entry{Name: "a", Content: "a"}, tartest.Entry{Name: "b", Type: tar.TypeLink, Linkname: "/etc/passwd"}), "links are not allowed"},
		{"not gzip", []byte("plain text, not a tarball"), "is not a gzip-compressed tarball"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := writeImage(t, repo, strings.ReplaceAll(tc.name, " ", "-"), imageWithLayers(t, nil, fluxLayer(tc.layer)))
			base := t.TempDir()
			_, err := c.Pull(context.Background(), repo, d, PullOptions{Dir: filepath.Join(base, "out"), MaxSize: 1 << 20, MaxFiles: 10})
			wantKind(t, err, ErrInvalidArtifact, tc.want, "registry "+reg.host, "repository unsafe", `layer "`+sha256Of(tc.layer)+`"`)
			entries, _ := os.ReadDir(base)
			for _, e := range entries {
				if e.Name() != "out" {
					t.Errorf("left %s beside the target", e.Name())
				}
			}
		})
	}
}
