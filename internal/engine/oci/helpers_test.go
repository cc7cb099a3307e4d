package oci

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// testRegistry is go-containerregistry's in-memory registry served over
// HTTP or HTTPS, with a request counter.
type testRegistry struct {
	srv      *httptest.Server
	host     string
	requests atomic.Int64
}

// wrapper adds behaviour in front of the registry.
type wrapper func(http.Handler) http.Handler

func newRegistryHandler(wrappers []wrapper) http.Handler {
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	for _, w := range wrappers {
		h = w(h)
	}
	return h
}

func (r *testRegistry) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		h.ServeHTTP(w, req)
	})
}

// startRegistry serves a plain HTTP registry on 127.0.0.1.
func startRegistry(t *testing.T, wrappers ...wrapper) *testRegistry {
	t.Helper()
	r := &testRegistry{}
	r.srv = quietServer(r.count(newRegistryHandler(wrappers)))
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	r.host = strings.TrimPrefix(r.srv.URL, "http://")
	return r
}

// startTLSRegistry serves an HTTPS registry with httptest's certificate.
func startTLSRegistry(t *testing.T, wrappers ...wrapper) *testRegistry {
	t.Helper()
	r := &testRegistry{}
	r.srv = quietServer(r.count(newRegistryHandler(wrappers)))
	r.srv.StartTLS()
	t.Cleanup(r.srv.Close)
	r.host = strings.TrimPrefix(r.srv.URL, "https://")
	return r
}

// quietServer is an unstarted server that does not log the handshake
// errors the tests provoke.
func quietServer(h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	return srv
}

func (r *testRegistry) repo(path string) Repository { return Repository{Registry: r.host, Path: path} }

// insecureClient talks plain HTTP to the test registries.
func insecureClient(mods ...func(*Options)) *Client {
	o := Options{Insecure: true, Timeout: 20 * time.Second}
	for _, m := range mods {
		m(&o)
	}
	return NewClient(o)
}

// writeImage writes img (or an index) to repo:tag with go-containerregistry
// itself, independently of the code under test.
func writeImage(t *testing.T, repo Repository, tag string, img any) string {
	t.Helper()
	ref, err := name.NewTag(repo.Registry+"/"+repo.Path+":"+tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	var d v1.Hash
	switch x := img.(type) {
	case v1.Image:
		err = remote.Write(ref, x)
		if err == nil {
			d, err = x.Digest()
		}
	case v1.ImageIndex:
		err = remote.WriteIndex(ref, x)
		if err == nil {
			d, err = x.Digest()
		}
	}
	if err != nil {
		t.Fatalf("writing %s: %v", ref, err)
	}
	return d.String()
}

// imageWithLayers is an OCI image with the given layers and annotations.
func imageWithLayers(t *testing.T, ann map[string]string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, ConfigMediaType)
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		t.Fatal(err)
	}
	if ann != nil {
		img = mutate.Annotations(img, ann).(v1.Image)
	}
	return img
}

// fluxLayer is a layer of Flux's content media type.
func fluxLayer(b []byte) v1.Layer { return static.NewLayer(b, ContentMediaType) }

// tree lists the files under dir with their content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type()&os.ModeSymlink != 0 {
			out[rel] = "<symlink>"
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func keys(m map[string]string) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// wantKind fails unless err is an *Error of kind whose message holds every
// wanted part.
func wantKind(t *testing.T, err error, kind error, parts ...string) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", kind)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %q is not an *Error", err, err)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %q is of kind %v, want %v", err, e.Kind, kind)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
	return e
}

// dialTo maps made-up addresses to real ones.
func dialTo(m map[string]string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if to, ok := m[addr]; ok {
			addr = to
		}
		return d.DialContext(ctx, network, addr)
	}
}
