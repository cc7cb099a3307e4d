package cosign_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/driftless/driftless/internal/engine/cosign"
	"github.com/driftless/driftless/internal/engine/cosign/cosigntest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
)

// The real cosign CLI (bin/cosign, built from its own module) and this
// package agree both ways, for both signature formats, on the real
// registry over HTTPS: what `cosign sign --key` writes verifies here, and
// what the test signer writes passes `cosign verify --key`.
func TestInteropWithRealCosign(t *testing.T) {
	bin := ocitest.CosignBinary(t)
	reg := ocitest.Start(t, ocitest.Options{TLS: true})
	env, err := reg.ToolEnv()
	if err != nil {
		t.Fatal(err)
	}
	env = append(env, "COSIGN_PASSWORD=")
	opts := []remote.Option{remote.WithTransport(&http.Transport{TLSClientConfig: reg.TLSConfig()})}
	ctx := context.Background()

	dir := t.TempDir()
	run := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("generate-key-pair"); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := cosign.ParsePublicKeys(map[string][]byte{"cosign.pub": pub})
	if err != nil {
		t.Fatal(err)
	}

	for _, bundle := range []bool{true, false} {
		format := map[bool]string{true: cosign.FormatBundle, false: cosign.FormatLegacy}[bundle]
		t.Run("cosign signs, Driftless verifies, "+format, func(t *testing.T) {
			repo, digest := pushRandom(t, reg, "signed-by-cosign-"+format, opts)
			ref := repo.Name() + "@" + digest.String()
			if out, err := run("sign", "--key", "cosign.key", "--tlog-upload=false", "--use-signing-config=false",
				"--new-bundle-format="+map[bool]string{true: "true", false: "false"}[bundle], "-y", ref); err != nil {
				t.Fatalf("cosign sign: %v\n%s", err, out)
			}
			res, err := cosign.Verify(ctx, repo, digest, keys, opts...)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.Format != format {
				t.Errorf("verified the %s format, want %s", res.Format, format)
			}
			// Another artifact of the same repository is not covered by it.
			_, other := pushRandom(t, reg, "signed-by-cosign-"+format, opts)
			if _, err := cosign.Verify(ctx, repo, other, keys, opts...); err == nil {
				t.Error("an unsigned artifact verified")
			}
		})
	}

	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ourPub, err := cosigntest.PublicKeyPEM(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ours.pub"), ourPub, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		format string
		sign   func(context.Context, name.Repository, v1.Hash) error
	}{
		{cosign.FormatBundle, func(ctx context.Context, repo name.Repository, d v1.Hash) error {
			return cosigntest.SignBundle(ctx, repo, d, priv, cosigntest.WithRemote(opts...))
		}},
		{cosign.FormatLegacy, func(ctx context.Context, repo name.Repository, d v1.Hash) error {
			return cosigntest.SignLegacy(ctx, repo, d, priv, cosigntest.WithRemote(opts...))
		}},
	} {
		t.Run("Driftless signs, cosign verifies, "+c.format, func(t *testing.T) {
			repo, digest := pushRandom(t, reg, "signed-by-driftless-"+c.format, opts)
			ref := repo.Name() + "@" + digest.String()
			if err := c.sign(ctx, repo, digest); err != nil {
				t.Fatal(err)
			}
			if out, err := run("verify", "--key", "ours.pub", "--insecure-ignore-tlog=true", ref); err != nil {
				t.Fatalf("cosign verify: %v\n%s", err, out)
			}
			// And cosign refuses it under another key: the check is real.
			if out, err := run("verify", "--key", "cosign.pub", "--insecure-ignore-tlog=true", ref); err == nil {
				t.Fatalf("cosign verified our signature with another key:\n%s", out)
			} else if !strings.Contains(out, "no matching signatures") && !strings.Contains(out, "invalid signature") &&
				!strings.Contains(out, "error") {
				t.Errorf("cosign verify with another key failed oddly:\n%s", out)
			}
		})
	}
}

// pushRandom pushes a random image to repo and returns its digest.
func pushRandom(t *testing.T, reg *ocitest.Registry, repo string, opts []remote.Option) (name.Repository, v1.Hash) {
	t.Helper()
	r, err := name.NewRepository(reg.Ref(repo))
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r.Digest(digest.String()), img, opts...); err != nil {
		t.Fatal(err)
	}
	return r, digest
}
