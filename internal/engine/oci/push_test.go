package oci

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/testkit/tartest"
)

// rawGet reads a registry path with plain net/http, independently of the
// code under test.
func rawGet(t *testing.T, reg *testRegistry, path, accept string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, reg.srv.URL+path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := reg.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	return b
}

func TestPushFormat(t *testing.T) {
	reg := startRegistry(t)
	c := insecureClient()
	repo := reg.repo("org/app")
	layer := tartest.TarGz(t, tartest.Entry{Name: "app.yaml", Content: "kind: Deployment\n"})
	created := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	digest, err := c.Push(context.Background(), repo, "v1.0.0", layer, PushOptions{
		Source:      "https://github.com/org/app",
		Revision:    "v1.0.0@sha1:0123456789abcdef0123456789abcdef01234567",
		Annotations: map[string]string{"org.example/team": "a"},
		Created:     created,
	})
	if err != nil {
		t.Fatal(err)
	}
	raw := rawGet(t, reg, "/v2/org/app/manifests/v1.0.0", "application/vnd.oci.image.manifest.v1+json")
	if sha256Of(raw) != digest {
		t.Errorf("Push returned %s, the registry has %s", digest, sha256Of(raw))
	}
	var m struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Config        struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"config"`
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Size      int    `json:"size"`
		} `json:"layers"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != 2 || m.MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("manifest %d %s", m.SchemaVersion, m.MediaType)
	}
	if m.Config.MediaType != "application/vnd.cncf.flux.config.v1+json" {
		t.Errorf("config media type %s", m.Config.MediaType)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != "application/vnd.cncf.flux.content.v1.tar+gzip" ||
		m.Layers[0].Digest != sha256Of(layer) || m.Layers[0].Size != len(layer) {
		t.Fatalf("layers %+v", m.Layers)
	}
	want := map[string]string{
		"org.opencontainers.image.source":   "https://github.com/org/app",
		"org.opencontainers.image.revision": "v1.0.0@sha1:0123456789abcdef0123456789abcdef01234567",
		"org.opencontainers.image.created":  "2026-03-04T04:06:07Z",
		"org.example/team":                  "a",
	}
	if len(m.Annotations) != len(want) {
		t.Errorf("annotations %v, want %v", m.Annotations, want)
	}
	for k, v := range want {
		if m.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, m.Annotations[k], v)
		}
	}
	if blob := rawGet(t, reg, "/v2/org/app/blobs/"+m.Layers[0].Digest, ""); string(blob) != string(layer) {
		t.Error("the layer blob is not the tarball pushed")
	}
	rawGet(t, reg, "/v2/org/app/blobs/"+m.Config.Digest, "")
}

func TestPushReproducible(t *testing.T) {
	reg := startRegistry(t)
	c := insecureClient()
	repo := reg.repo("repro")
	layer := tartest.TarGz(t, tartest.Entry{Name: "a.yaml", Content: "a: 1\n"})
	opts := PushOptions{Source: "s", Revision: "r", Reproducible: true}
	d1, err := c.Push(context.Background(), repo, "one", layer, opts)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := c.Push(context.Background(), repo, "two", append([]byte(nil), layer...), opts)
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 {
		t.Errorf("two reproducible pushes gave %s and %s", d1, d2)
	}
	got, err := c.Pull(context.Background(), repo, d1, PullOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if got.Annotations[AnnotationCreated] != "1970-01-01T00:00:00Z" {
		t.Errorf("created = %q", got.Annotations[AnnotationCreated])
	}
	fixed := PushOptions{Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	d3, _ := c.Push(context.Background(), repo, "three", layer, fixed)
	d4, _ := c.Push(context.Background(), repo, "four", layer, fixed)
	if d3 != d4 || d3 == d1 {
		t.Errorf("fixed created: %s and %s (reproducible %s)", d3, d4, d1)
	}
}

func TestPushRefusesNonGzip(t *testing.T) {
	reg := startRegistry(t)
	_, err := insecureClient().Push(context.Background(), reg.repo("x"), "1", []byte("not gzip"), PushOptions{})
	wantKind(t, err, ErrInvalidArtifact, "not a gzip-compressed tarball")
	_, err = insecureClient().Push(context.Background(), reg.repo("x"), "-bad", tartest.TarGz(t), PushOptions{})
	wantKind(t, err, ErrInvalidSelector, `tag "-bad"`)
	if reg.requests.Load() != 0 {
		t.Error("a refused push reached the registry")
	}
}

func TestTag(t *testing.T) {
	reg := startRegistry(t)
	c := insecureClient()
	repo := reg.repo("app")
	d := pushTags(t, c, repo, "1.0.0")["1.0.0"]
	if err := c.Tag(context.Background(), repo, d, "stable"); err != nil {
		t.Fatal(err)
	}
	got, err := c.Resolve(context.Background(), repo, Selector{Tag: "stable"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != d {
		t.Errorf("stable -> %s, want %s", got.Digest, d)
	}
	err = c.Tag(context.Background(), repo, "sha256:"+strings.Repeat("d", 64), "other")
	wantKind(t, err, ErrDigestNotFound)
}

func TestList(t *testing.T) {
	reg := startRegistry(t)
	c := insecureClient()
	repo := reg.repo("app")
	d := pushTags(t, c, repo, "1.0.0", "1.1.0", "v2.0.0", "2.1.0-rc.1", "latest")
	sig := "sha256-" + strings.Repeat("e", 64)
	for _, tag := range []string{sig, sig + ".sig", sig + ".att"} {
		if err := c.Tag(context.Background(), repo, d["1.0.0"], tag); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		opts ListOptions
		want string
	}{
		{ListOptions{}, "1.0.0 1.1.0 2.1.0-rc.1 latest v2.0.0"},
		{ListOptions{SemverRange: ">=1.1.0"}, "v2.0.0 1.1.0"},
		{ListOptions{SemverRange: ">=1.1.0-0"}, "2.1.0-rc.1 v2.0.0 1.1.0"},
		{ListOptions{Regex: `^1\.`}, "1.0.0 1.1.0"},
		{ListOptions{Regex: `^\d`, SemverRange: "*"}, "1.1.0 1.0.0"},
	} {
		got, err := c.List(context.Background(), repo, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		var tags []string
		for _, l := range got {
			tags = append(tags, l.Tag)
			if l.Digest != d[l.Tag] || l.Source != "test" || l.Revision != l.Tag+"@sha1:"+strings.Repeat("0", 40) {
				t.Errorf("listed %+v", l)
			}
		}
		if strings.Join(tags, " ") != tc.want {
			t.Errorf("%+v: listed %v, want %s", tc.opts, tags, tc.want)
		}
	}
	_, err := c.List(context.Background(), repo, ListOptions{Regex: "("})
	wantKind(t, err, ErrInvalidSelector)
	_, err = c.List(context.Background(), repo, ListOptions{SemverRange: "x y z"})
	wantKind(t, err, ErrInvalidSelector)
}
