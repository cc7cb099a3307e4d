package cosign_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/driftless/driftless/internal/engine/cosign"
	"github.com/driftless/driftless/internal/engine/cosign/cosigntest"
)

// testRegistry is go-containerregistry's in-memory registry over HTTP.
// Without the referrers API, it answers 404 to /v2/<name>/referrers/, as a
// registry that predates OCI 1.1: signers and verifiers use the referrers
// tag sha256-<hex> instead.
type testRegistry struct {
	host string
	// referrersCalls counts requests to the referrers API.
	mu             sync.Mutex
	referrersCalls int
}

func newRegistry(t *testing.T, referrersAPI bool) *testRegistry {
	t.Helper()
	r := &testRegistry{}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.Contains(req.URL.Path, "/referrers/") {
			r.mu.Lock()
			r.referrersCalls++
			r.mu.Unlock()
			if !referrersAPI {
				http.Error(w, `{"errors":[{"code":"NOT_FOUND","message":"no referrers API"}]}`, http.StatusNotFound)
				return
			}
		}
		inner.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// referrers is how many requests the referrers API had.
func (r *testRegistry) referrers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.referrersCalls
}

func (r *testRegistry) repo(t *testing.T, path string) name.Repository {
	t.Helper()
	repo, err := name.NewRepository(r.host+"/"+path, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// pushArtifact pushes a small random image under tag and returns its
// digest.
func pushArtifact(t *testing.T, repo name.Repository, tag string) v1.Hash {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(repo.Tag(tag), img); err != nil {
		t.Fatalf("pushing %s:%s: %v", repo, tag, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// keyKinds are the key types cosign signs with.
var keyKinds = []string{"ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048", "ed25519"}

func newKey(t *testing.T, kind string) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	switch kind {
	case "ecdsa-p256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ecdsa-p384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ecdsa-p521":
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "rsa-2048":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("unknown key kind %s", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// secretData is a Secret's data with each signer's public key under its
// name, as cosign.pub is written.
func secretData(t *testing.T, keys map[string]crypto.Signer) map[string][]byte {
	t.Helper()
	data := map[string][]byte{}
	for name, k := range keys {
		p, err := cosigntest.PublicKeyPEM(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		data[name] = p
	}
	return data
}

// publicKeys parses the signers' public keys as a Secret's *.pub entries,
// in the order given (entry names sort as the signers do).
func publicKeys(t *testing.T, signers ...crypto.Signer) []cosign.PublicKey {
	t.Helper()
	named := map[string]crypto.Signer{}
	for i, s := range signers {
		named[string(rune('a'+i))+".pub"] = s
	}
	keys, err := cosign.ParsePublicKeys(secretData(t, named))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// signer is one of the two formats' test signers.
type signer struct {
	format string
	sign   func(ctx context.Context, repo name.Repository, digest v1.Hash, priv crypto.Signer, opts ...cosigntest.Option) error
}

var signers = []signer{
	{cosign.FormatBundle, cosigntest.SignBundle},
	{cosign.FormatLegacy, cosigntest.SignLegacy},
}

func mustSign(t *testing.T, s signer, repo name.Repository, digest v1.Hash, priv crypto.Signer, opts ...cosigntest.Option) {
	t.Helper()
	if err := s.sign(context.Background(), repo, digest, priv, opts...); err != nil {
		t.Fatalf("signing %s (%s): %v", digest, s.format, err)
	}
}
