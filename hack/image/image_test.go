package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// staticBinary builds a tiny static Linux program, standing in for
// driftless-controller.
func staticBinary(t *testing.T, cgo string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() { println(\"hello\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "driftless-controller")
	cmd := exec.Command("go", "build", "-o", bin, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo, "GOOS=linux", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestImageTarball(t *testing.T) {
	bin := staticBinary(t, "0")
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "image.tar")
	o := options{Binary: bin, CABundle: ca, Tag: "ghcr.io/driftless/driftless-controller:v1.2.3",
		Version: "v1.2.3", Revision: "abc123", Arch: "amd64", Created: time.Unix(0, 0).UTC()}
	digest, err := writeImage(o, out)
	if err != nil {
		t.Fatal(err)
	}

	// Read it back as docker load would: by the tag in manifest.json.
	tag, _ := name.NewTag(o.Tag)
	img, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := img.Digest(); d != digest {
		t.Errorf("digest %s read back, %s written", d, digest)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != "65532:65532" || !slices.Equal(cfg.Config.Entrypoint, []string{"/driftless-controller"}) {
		t.Errorf("user %q entrypoint %v", cfg.Config.User, cfg.Config.Entrypoint)
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Errorf("platform %s/%s", cfg.OS, cfg.Architecture)
	}
	for k, v := range map[string]string{
		"org.opencontainers.image.version": "v1.2.3", "org.opencontainers.image.revision": "abc123",
		"org.opencontainers.image.source": "https://github.com/driftless/driftless",
	} {
		if cfg.Config.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, cfg.Config.Labels[k], v)
		}
	}

	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	want, _ := os.ReadFile(bin)
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = h
		if h.Name == "driftless-controller" {
			got, _ := io.ReadAll(tr)
			if !bytes.Equal(got, want) {
				t.Error("the binary in the layer differs from the input")
			}
		}
	}
	if h := entries["driftless-controller"]; h == nil || h.Mode != 0o755 || h.Uid != 0 {
		t.Errorf("binary entry %+v", h)
	}
	if h := entries["tmp/"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("tmp entry %+v", h)
	}
	if entries["etc/ssl/certs/ca-certificates.crt"] == nil || entries["etc/passwd"] != nil {
		t.Errorf("layer entries %v", entries)
	}

	// The same inputs give the same image.
	again, err := writeImage(o, filepath.Join(t.TempDir(), "again.tar"))
	if err != nil || again != digest {
		t.Errorf("rebuild digest %s, first %s (%v)", again, digest, err)
	}
}

func TestImageRefusesDynamicBinaries(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no C compiler to build a dynamic binary")
	}
	// net with cgo links the C resolver dynamically.
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nimport \"net\"\n\nfunc main() { net.LookupHost(\"x\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "dyn")
	cmd := exec.Command("go", "build", "-o", bin, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cgo build failed: %v\n%s", err, out)
	}
	_, err := buildImage(options{Binary: bin, Tag: "x", Arch: "amd64"})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("CGO_ENABLED=0")) {
		t.Errorf("got %v, want a refusal of the dynamic binary", err)
	}
	if _, err := buildImage(options{Binary: "image_test.go", Tag: "x"}); err == nil {
		t.Error("a text file was accepted as the binary")
	}
}
