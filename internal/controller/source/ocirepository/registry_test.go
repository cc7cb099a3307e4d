package ocirepository_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/driftless/driftless/internal/engine/cosign/cosigntest"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/testkit/ocitest"
	"github.com/driftless/driftless/internal/testkit/tartest"
	"github.com/driftless/driftless/internal/testkit/testca"
)

// regOptions say how a test registry is served.
type regOptions struct {
	// ca, when set, serves HTTPS with a certificate it issued.
	ca *testca.CA
	// clientCA, when set, requires a client certificate it issued.
	clientCA *testca.CA
	// user and password, when set, require basic auth.
	user, password string
	// noReferrers answers 404 to the referrers API, as a registry that
	// predates OCI 1.1.
	noReferrers bool
	// hang holds every request until the test ends.
	hang bool
}

// testRegistry is go-containerregistry's in-memory registry served by
// httptest, counting the manifest and blob requests it answers.
type testRegistry struct {
	host      string
	tls       bool
	transport http.RoundTripper
	auth      authn.Authenticator

	manifestHeads, manifestGets, blobGets atomic.Int64
}

func newRegistry(t *testing.T, o regOptions) *testRegistry {
	t.Helper()
	r := &testRegistry{auth: authn.Anonymous}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true))
	done := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if o.hang {
			select {
			case <-req.Context().Done():
			case <-done:
			}
			return
		}
		if o.user != "" {
			if u, p, ok := req.BasicAuth(); !ok || u != o.user || p != o.password {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
		}
		switch {
		case strings.Contains(req.URL.Path, "/referrers/") && o.noReferrers:
			http.Error(w, `{"errors":[{"code":"NOT_FOUND","message":"no referrers API"}]}`, http.StatusNotFound)
			return
		case strings.Contains(req.URL.Path, "/manifests/") && req.Method == http.MethodHead:
			r.manifestHeads.Add(1)
		case strings.Contains(req.URL.Path, "/manifests/") && req.Method == http.MethodGet:
			r.manifestGets.Add(1)
		case strings.Contains(req.URL.Path, "/blobs/") && req.Method == http.MethodGet:
			r.blobGets.Add(1)
		}
		inner.ServeHTTP(w, req)
	})
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	transport := &http.Transport{}
	if o.ca != nil {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{o.ca.Server().TLSCertificate()}}
		pool := x509.NewCertPool()
		pool.AddCert(o.ca.Cert)
		transport.TLSClientConfig = &tls.Config{RootCAs: pool}
		if o.clientCA != nil {
			clients := x509.NewCertPool()
			clients.AddCert(o.clientCA.Cert)
			srv.TLS.ClientCAs, srv.TLS.ClientAuth = clients, tls.RequireAndVerifyClientCert
			transport.TLSClientConfig.Certificates = []tls.Certificate{o.clientCA.Client("registry client").TLSCertificate()}
		}
		srv.StartTLS()
		r.tls = true
	} else {
		srv.Start()
	}
	t.Cleanup(func() { close(done); srv.Close() })
	r.host = srv.Listener.Addr().String()
	r.transport = transport
	if o.user != "" {
		r.auth = &authn.Basic{Username: o.user, Password: o.password}
	}
	return r
}

// realRegistry is the real distribution registry (bin/registry) over HTTPS
// with a certificate from ca, behind the same helpers as newRegistry. It has
// no referrers API: cosign bundles go by the sha256-<hex> tag. It counts no
// requests.
func realRegistry(t *testing.T, ca *testca.CA) *testRegistry {
	t.Helper()
	reg := ocitest.Start(t, ocitest.Options{TLS: true, CA: ca})
	return &testRegistry{host: reg.Host, tls: true, auth: authn.Anonymous,
		transport: &http.Transport{TLSClientConfig: reg.TLSConfig()}}
}

// url is the oci:// address of path.
func (r *testRegistry) url(path string) string { return "oci://" + r.host + "/" + path }

func (r *testRegistry) repo(t *testing.T, path string) name.Repository {
	t.Helper()
	var opts []name.Option
	if !r.tls {
		opts = append(opts, name.Insecure)
	}
	repo, err := name.NewRepository(r.host+"/"+path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

func (r *testRegistry) remote() []remote.Option {
	return []remote.Option{remote.WithTransport(r.transport), remote.WithAuth(r.auth)}
}

// resetCounts zeroes the request counters.
func (r *testRegistry) resetCounts() {
	r.manifestHeads.Store(0)
	r.manifestGets.Store(0)
	r.blobGets.Store(0)
}

// push writes img to path:tag and returns its digest.
func (r *testRegistry) push(t *testing.T, path, tag string, img v1.Image) string {
	t.Helper()
	if err := remote.Write(r.repo(t, path).Tag(tag), img, r.remote()...); err != nil {
		t.Fatalf("push %s:%s: %v", path, tag, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// pushFiles pushes a Flux artifact of files, annotated, to path:tag.
func (r *testRegistry) pushFiles(t *testing.T, path, tag string, files map[string]string, ann map[string]string) string {
	t.Helper()
	return r.push(t, path, tag, fluxImage(t, ann, static.NewLayer(tartest.TarGz(t, tartest.Files(files)...), oci.ContentMediaType)))
}

// sign signs path@digest with key in cosign's bundle or legacy format.
func (r *testRegistry) sign(t *testing.T, path, digest string, key crypto.Signer, format string, opts ...cosigntest.Option) {
	t.Helper()
	h, err := v1.NewHash(digest)
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, cosigntest.WithRemote(r.remote()...))
	sign := cosigntest.SignBundle
	if format == "legacy" {
		sign = cosigntest.SignLegacy
	}
	if err := sign(context.Background(), r.repo(t, path), h, key, opts...); err != nil {
		t.Fatalf("sign %s@%s: %v", path, digest, err)
	}
}

// dockerConfig is the .dockerconfigjson of a pull Secret for the registry.
func (r *testRegistry) dockerConfig(user, password string) map[string][]byte {
	cfg := map[string]any{"auths": map[string]any{r.host: map[string]string{
		"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password)),
	}}}
	b, _ := json.Marshal(cfg)
	return map[string][]byte{".dockerconfigjson": b}
}

// staticLayer is a layer of the given bytes and media type.
func staticLayer(b []byte, mediaType string) v1.Layer {
	return static.NewLayer(b, types.MediaType(mediaType))
}

// fluxImage is a Flux artifact manifest with the given layers.
func fluxImage(t *testing.T, ann map[string]string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, oci.ConfigMediaType)
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		t.Fatal(err)
	}
	if ann != nil {
		img = mutate.Annotations(img, ann).(v1.Image)
	}
	return img
}

// newKey is an ECDSA P-256 key, what cosign generate-key-pair makes.
func newKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func publicPEM(t *testing.T, k crypto.Signer) []byte {
	t.Helper()
	b, err := cosigntest.PublicKeyPEM(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return b
}
