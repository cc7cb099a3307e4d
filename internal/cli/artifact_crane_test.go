package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/ocitest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestArtifactInteropWithCrane: on the real registry, crane (another OCI
// client) reads what `flux push artifact` wrote as Flux's format, and a
// Flux-format artifact that crane pushed from an OCI layout written by hand
// is read by `flux pull artifact` and by an OCIRepository.
func TestArtifactInteropWithCrane(t *testing.T) {
	crane := ocitest.CraneBinary(t)
	reg := ocitest.Start(t, ocitest.Options{})
	toolEnv, err := reg.ToolEnv()
	if err != nil {
		t.Fatal(err)
	}
	runCrane := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(crane, append(args, "--insecure")...)
		cmd.Env = toolEnv
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("crane %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return out
	}

	t.Run("crane reads what flux pushed", func(t *testing.T) {
		url := "oci://" + reg.Host + "/pushed/app:v1"
		if _, stderr, err := artifactFlux(t, "", "", pushArgs(url, manifestsTree(t))...); err != nil {
			t.Fatalf("push: %v\n%s", err, stderr)
		}
		var m struct {
			Config      struct{ MediaType string }
			Layers      []struct{ MediaType, Digest string }
			Annotations map[string]string
		}
		if err := json.Unmarshal(runCrane("manifest", reg.Host+"/pushed/app:v1"), &m); err != nil {
			t.Fatal(err)
		}
		if m.Config.MediaType != "application/vnd.cncf.flux.config.v1+json" || len(m.Layers) != 1 ||
			m.Layers[0].MediaType != "application/vnd.cncf.flux.content.v1.tar+gzip" {
			t.Fatalf("crane sees config %q and layers %+v", m.Config.MediaType, m.Layers)
		}
		if m.Annotations["org.opencontainers.image.source"] != "https://github.com/org/fleet" {
			t.Errorf("annotations: %v", m.Annotations)
		}
		names := tarNames(t, runCrane("blob", reg.Host+"/pushed/app@"+m.Layers[0].Digest))
		if !slices.Contains(names, "apps/deployment.yaml") || !slices.Contains(names, "kustomization.yaml") {
			t.Errorf("the layer crane downloaded lists %v", names)
		}
	})

	// An artifact in Flux's format, every byte written here, pushed by crane.
	revision := "main@sha1:" + strings.Repeat("cd", 20)
	layout, manifestDigest := fluxLayout(t, map[string]string{
		"kustomization.yaml": "resources:\n- config.yaml\n",
		"config.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-crane\ndata:\n  k: v\n",
	}, revision)
	runCrane("push", layout, reg.Host+"/crane/app:v1")

	t.Run("flux pull reads what crane pushed", func(t *testing.T) {
		out := t.TempDir()
		if _, stderr, err := artifactFlux(t, "", "", "pull", "artifact", "oci://"+reg.Host+"/crane/app:v1", "-o", out, "--insecure-registry"); err != nil {
			t.Fatalf("pull: %v\n%s", err, stderr)
		}
		if b, err := os.ReadFile(filepath.Join(out, "config.yaml")); err != nil || !strings.Contains(string(b), "from-crane") {
			t.Errorf("pulled config.yaml: %q %v", b, err)
		}
	})

	t.Run("an OCIRepository reads what crane pushed", func(t *testing.T) {
		ns := env.Namespace(t)
		if _, stderr, err := runFlux(t, "", "-n", ns, "create", "source", "oci", "from-crane", "--url", "oci://"+reg.Host+"/crane/app",
			"--tag", "v1", "--insecure", "--timeout", "2m"); err != nil {
			t.Fatalf("create source oci: %v\n%s", err, stderr)
		}
		repo := &sourcev1.OCIRepository{}
		testcluster.Eventually(t, time.Minute, "the OCIRepository Ready", func() (bool, error) {
			err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "from-crane"}, repo)
			return err == nil && reconcile.IsTrue(repo, "Ready") && repo.Status.ObservedGeneration == repo.Generation, err
		})
		if want := "v1@" + manifestDigest; repo.Status.Artifact == nil || repo.Status.Artifact.Revision != want {
			t.Errorf("artifact %+v, want revision %s", repo.Status.Artifact, want)
		}
		if got := repo.Status.Artifact.Metadata["org.opencontainers.image.revision"]; got != revision {
			t.Errorf("artifact metadata revision %q, want %q", got, revision)
		}
		_ = kube.Delete(context.Background(), repo, &client.DeleteOptions{PropagationPolicy: ptrTo(metav1.DeletePropagationBackground)})
	})
}

func ptrTo[T any](v T) *T { return &v }

// tarNames lists the entries of a tar.gz.
func tarNames(t *testing.T, tgz []byte) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}

// fluxLayout writes an OCI image layout holding one artifact in Flux's
// format (Flux's config and content media types, the source and revision
// annotations) with files as its content, without any OCI library, and
// returns its directory and the manifest's digest.
func fluxLayout(t *testing.T, files map[string]string, revision string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	blob := func(data []byte) (string, int) {
		sum := sha256.Sum256(data)
		h := hex.EncodeToString(sum[:])
		p := filepath.Join(dir, "blobs", "sha256", h)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return "sha256:" + h, len(data)
	}
	var layer bytes.Buffer
	zw := gzip.NewWriter(&layer)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	configDigest, configSize := blob([]byte("{}"))
	layerDigest, layerSize := blob(layer.Bytes())
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.cncf.flux.config.v1+json", "digest": configDigest, "size": configSize},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.cncf.flux.content.v1.tar+gzip", "digest": layerDigest, "size": layerSize}},
		"annotations": map[string]string{
			"org.opencontainers.image.source":   "https://github.com/org/elsewhere",
			"org.opencontainers.image.revision": revision,
			"org.opencontainers.image.created":  "2026-01-01T00:00:00Z",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	manifestDigest, manifestSize := blob(manifest)
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests":     []any{map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifestDigest, "size": manifestSize}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, manifestDigest
}
