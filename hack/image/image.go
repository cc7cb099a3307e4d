package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Where the image puts things, and who it runs as (distroless's nonroot).
const (
	binaryPath = "driftless-controller"
	caPath     = "etc/ssl/certs/ca-certificates.crt"
	nonRoot    = "65532:65532"
)

type options struct {
	Binary, CABundle       string
	Tag, Version, Revision string
	Arch                   string
	Created                time.Time
}

// writeImage builds the image and writes it to path, returning its digest.
func writeImage(o options, path string) (v1.Hash, error) {
	ref, err := name.ParseReference(o.Tag)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("--tag: %w", err)
	}
	img, err := buildImage(o)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := tarball.WriteToFile(path, ref, img); err != nil {
		return v1.Hash{}, fmt.Errorf("writing %s: %w", path, err)
	}
	return img.Digest()
}

// buildImage is the scratch image with the one layer and the config.
func buildImage(o options) (v1.Image, error) {
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, err
	}
	if err := checkStatic(o.Binary); err != nil {
		return nil, err
	}
	var ca []byte
	if o.CABundle != "" {
		if ca, err = os.ReadFile(o.CABundle); err != nil {
			return nil, fmt.Errorf("--ca-bundle: %w", err)
		}
	}
	layerTar, err := layerContents(bin, ca, o.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:     layer,
		History:   v1.History{Created: v1.Time{Time: o.Created}, CreatedBy: "hack/image: /" + binaryPath, Comment: "driftless-controller"},
		MediaType: "",
	})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", o.Arch
	cfg.Created = v1.Time{Time: o.Created}
	cfg.Config.User = nonRoot
	cfg.Config.Entrypoint = []string{"/" + binaryPath}
	cfg.Config.WorkingDir = "/"
	cfg.Config.Env = []string{"PATH=/", "SSL_CERT_FILE=/" + caPath}
	cfg.Config.Labels = map[string]string{
		"org.opencontainers.image.title":       "driftless-controller",
		"org.opencontainers.image.description": "Driftless, a Flux-compatible GitOps toolkit: the source and kustomize controllers in one process",
		"org.opencontainers.image.source":      "https://github.com/driftless/driftless",
		"org.opencontainers.image.version":     o.Version,
	}
	if o.Revision != "" {
		cfg.Config.Labels["org.opencontainers.image.revision"] = o.Revision
	}
	return mutate.ConfigFile(img, cfg)
}

// layerContents is the layer's tar: /driftless-controller, the CA bundle
// and /tmp, owned by root (the binary is not writable by the user it runs
// as), with fixed times so that the same binary gives the same digest.
func layerContents(bin, ca []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: mtime, Format: tar.FormatPAX})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	steps := []func() error{
		func() error { return dir("tmp", 0o1777) },
		func() error { return file(binaryPath, 0o755, bin) },
	}
	if ca != nil {
		steps = append(steps,
			func() error { return dir("etc", 0o755) },
			func() error { return dir("etc/ssl", 0o755) },
			func() error { return dir("etc/ssl/certs", 0o755) },
			func() error { return file(caPath, 0o644, ca) },
		)
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkStatic refuses what cannot run on scratch: anything but a Linux ELF
// executable without a dynamic loader (build with CGO_ENABLED=0 GOOS=linux).
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not a Linux executable (build it with GOOS=linux): %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New(path + " is dynamically linked and cannot run on a scratch image; build it with CGO_ENABLED=0")
		}
	}
	return nil
}
