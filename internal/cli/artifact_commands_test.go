package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// pushTree pushes dir to repo:tag reproducibly with revision rev and
// returns the manifest digest.
func pushTree(t *testing.T, reg *artifactRegistry, repo, tag, dir, rev string) string {
	t.Helper()
	args := []string{"push", "artifact", reg.url(repo, ":"+tag), "-f", dir, "--insecure-registry", "--reproducible",
		"--source", "https://github.com/org/fleet", "--revision", rev}
	if _, stderr, err := artifactFlux(t, "", "", args...); err != nil {
		t.Fatalf("push %s:%s: %v\n%s", repo, tag, err, stderr)
	}
	_, digest := reg.manifest(t, repo, tag)
	return digest
}

func revision(branch string, b byte) string {
	return branch + "@sha1:" + strings.Repeat(string([]byte{b}), 40)
}

func TestTagArtifact(t *testing.T) {
	reg := startArtifactRegistry(t, nil)
	digest := pushTree(t, reg, "org/app", "v1.0.0", manifestsTree(t), revision("main", 'a'))
	_, stderr, err := artifactFlux(t, "", "", "tag", "artifact", reg.url("org/app", ":v1.0.0"), "--insecure-registry", "--tag", "latest", "--tag", "stable")
	if err != nil {
		t.Fatalf("tag: %v\n%s", err, stderr)
	}
	for _, tag := range []string{"latest", "stable"} {
		if _, d := reg.manifest(t, "org/app", tag); d != digest {
			t.Errorf("tag %s points at %s, want %s", tag, d, digest)
		}
		if !strings.Contains(stderr, "✔ artifact tagged as "+reg.host+"/org/app:"+tag) {
			t.Errorf("stderr does not report tag %s:\n%s", tag, stderr)
		}
	}
	// By digest too.
	if _, _, err := artifactFlux(t, "", "", "tag", "artifact", reg.url("org/app", "@"+digest), "--insecure-registry", "--tag", "pinned"); err != nil {
		t.Fatal(err)
	}
	if _, d := reg.manifest(t, "org/app", "pinned"); d != digest {
		t.Errorf("tag pinned points at %s, want %s", d, digest)
	}

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"tag", "artifact", reg.url("org/app", ":v1.0.0"), "--insecure-registry"}, []string{"--tag is required"}},
		{[]string{"tag", "artifact", reg.url("org/app", ":v9"), "--insecure-registry", "--tag", "x"}, []string{"tagging artifact failed", "repository org/app", `tag "v9"`, "tag not found"}},
		{[]string{"tag", "artifact", reg.url("org/app", ":v1.0.0"), "--insecure-registry", "--tag", "-bad"}, []string{`tag "-bad"`, "not a valid tag"}},
	} {
		_, _, err := artifactFlux(t, "", "", tc.args...)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: want an error saying %q, got %v", tc.args, w, err)
			}
		}
	}
}

// realign lays a table out again once cells were edited (the registry
// host replaced), so the golden does not depend on the port's length.
func realign(table string) string {
	var b strings.Builder
	w := newTabWriter(&b)
	for _, line := range strings.Split(strings.TrimSuffix(table, "\n"), "\n") {
		fmt.Fprintln(w, strings.Join(regexp.MustCompile(` {3,}`).Split(line, -1), "\t"))
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
	return b.String()
}

func TestListArtifacts(t *testing.T) {
	reg := startArtifactRegistry(t, nil)
	dir := manifestsTree(t)
	for i, tag := range []string{"v1.0.0", "v1.1.0", "v2.0.0", "dev"} {
		writeTree(t, dir, map[string]string{"version.txt": tag})
		pushTree(t, reg, "org/app", tag, dir, revision("main", "abcd"[i]))
	}
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"all", nil},
		{"semver", []string{"--filter-semver", ">=1.0.0 <2.0.0"}},
		{"regex", []string{"--filter-regex", "^v.*0$"}},
	} {
		stdout, stderr, err := artifactFlux(t, "", "", append([]string{"list", "artifacts", reg.url("org/app", ""), "--insecure-registry"}, tc.args...)...)
		if err != nil {
			t.Fatalf("list %v: %v\n%s", tc.args, err, stderr)
		}
		checkGolden(t, "list/artifacts-"+tc.golden+".golden", realign(strings.ReplaceAll(stdout, reg.host, "REGISTRY")))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "artifacts", reg.url("org/app", ":v1"), "--insecure-registry"}, "takes the repository alone"},
		{[]string{"list", "artifacts", reg.url("org/app", ""), "--insecure-registry", "--filter-semver", "not a range"}, `semver range "not a range"`},
		{[]string{"list", "artifacts", reg.url("org/app", ""), "--insecure-registry", "--filter-regex", "("}, `regex "("`},
		{[]string{"list", "artifacts", reg.url("org/none", ""), "--insecure-registry"}, "repository org/none"},
	} {
		if _, _, err := artifactFlux(t, "", "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want an error saying %q, got %v", tc.args, tc.want, err)
		}
	}
}

// TestPullArtifact: what push wrote, pull extracts; an artifact that is
// not Flux's is refused, naming its media types, and nothing is written.
func TestPullArtifact(t *testing.T) {
	reg := startArtifactRegistry(t, nil)
	dir := manifestsTree(t)
	digest := pushTree(t, reg, "org/app", "v1", dir, revision("main", 'c'))
	out := filepath.Join(t.TempDir(), "pulled")
	_, stderr, err := artifactFlux(t, "", "", "pull", "artifact", reg.url("org/app", ":v1"), "--insecure-registry", "-o", out)
	if err != nil {
		t.Fatalf("pull: %v\n%s", err, stderr)
	}
	for _, w := range []string{"✔ source https://github.com/org/fleet", "✔ revision " + revision("main", 'c'), "✔ digest " + reg.host + "/org/app@" + digest, "extracted to " + out} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, stderr)
		}
	}
	for _, f := range []string{"kustomization.yaml", "apps/deployment.yaml", "apps/config.yaml"} {
		want, _ := os.ReadFile(filepath.Join(dir, f))
		if got, err := os.ReadFile(filepath.Join(out, f)); err != nil || string(got) != string(want) {
			t.Errorf("%s: %q, %v; want %q", f, got, err, want)
		}
	}
	for _, f := range []string{"logo.png", ".git"} {
		if _, err := os.Stat(filepath.Join(out, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was pulled: %v", f, err)
		}
	}

	// A container image (docker media types) is not a Flux artifact.
	img, err := random.Image(64, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(reg.host+"/org/image:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	out2 := filepath.Join(t.TempDir(), "image")
	_, _, err = artifactFlux(t, "", "", "pull", "artifact", reg.url("org/image", ":v1"), "--insecure-registry", "-o", out2)
	for _, w := range []string{"is not a Flux artifact", "application/vnd.docker.container.image.v1+json", "application/vnd.docker.image.rootfs.diff.tar.gzip", "application/vnd.cncf.flux.content.v1.tar+gzip"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("pull of an image: want an error saying %q, got %v", w, err)
		}
	}
	if entries, _ := os.ReadDir(out2); len(entries) > 0 {
		t.Errorf("the refused pull wrote %d entries", len(entries))
	}

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"pull", "artifact", reg.url("org/app", ":v1"), "--insecure-registry"}, []string{"--output is required"}},
		{[]string{"pull", "artifact", reg.url("org/app", ":v9"), "--insecure-registry", "-o", out}, []string{"registry " + reg.host, "repository org/app", `tag "v9"`, "tag not found"}},
		{[]string{"pull", "artifact", reg.url("org/app", ":v1"), "--insecure-registry", "-o", out, "--provider", "gcp"}, []string{"--provider gcp", "not built", "gcloud auth print-access-token"}},
	} {
		_, _, err := artifactFlux(t, "", "", tc.args...)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: want an error saying %q, got %v", tc.args, w, err)
			}
		}
	}
}

// TestDiffArtifact: exit 0 when the local content is what was pushed, 1
// with the files added, removed and changed, 2 on error.
func TestDiffArtifact(t *testing.T) {
	reg := startArtifactRegistry(t, nil)
	dir := manifestsTree(t)
	pushTree(t, reg, "org/app", "v1", dir, revision("main", 'd'))
	diff := func(extra ...string) (string, error) {
		stdout, _, err := artifactFlux(t, "", "", append([]string{"diff", "artifact", reg.url("org/app", ":v1"), "--insecure-registry"}, extra...)...)
		return stdout, err
	}
	if out, err := diff("--path", dir); err != nil || out != "" {
		t.Fatalf("the pushed directory: %q, %v; want no difference", out, err)
	}

	writeTree(t, dir, map[string]string{"apps/service.yaml": "kind: Service\n", "apps/config.yaml": "kind: ConfigMap\ndata: {}\n", "notes.png": "ignored"})
	if err := os.Remove(filepath.Join(dir, "kustomization.yaml")); err != nil {
		t.Fatal(err)
	}
	out, err := diff("--path", dir)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 1 {
		t.Fatalf("want exit code 1, got %v", err)
	}
	if want := "added: apps/service.yaml\nremoved: kustomization.yaml\nchanged: apps/config.yaml\n"; out != want {
		t.Errorf("diff lists\n%s\nwant\n%s", out, want)
	}
	if !strings.Contains(err.Error(), "1 added (only in the local content), 1 removed (only in the artifact), 1 changed") {
		t.Errorf("message: %v", err)
	}
	// --ignore-paths applies to the local side.
	if out, err := diff("--path", dir, "--ignore-paths", "apps/service.yaml,*.png"); !errors.As(err, &exit) || exit.Code != 1 || strings.Contains(out, "service.yaml") {
		t.Errorf("with --ignore-paths: %q, %v", out, err)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--path is required"},
		{[]string{"--path", filepath.Join(dir, "nope")}, "existing directory or file"},
		{[]string{"--path", dir, "--provider", "azure"}, "not built"},
	} {
		_, err := diff(tc.args...)
		if !errors.As(err, &exit) || exit.Code != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want exit code 2 saying %q, got %v", tc.args, tc.want, err)
		}
	}
	_, _, err = artifactFlux(t, "", "", "diff", "artifact", reg.url("org/app", ":v9"), "--insecure-registry", "--path", dir)
	if !errors.As(err, &exit) || exit.Code != 2 || !strings.Contains(err.Error(), `tag "v9"`) {
		t.Errorf("a missing tag: want exit code 2 naming it, got %v", err)
	}
}

// TestPullArtifactUploadedByHTTP: an artifact in Flux's format written by
// another tool (plain HTTP uploads, a tarball with owners, times and
// "./" names) pulls, and diffs by content against the same files.
func TestPullArtifactUploadedByHTTP(t *testing.T) {
	reg := startArtifactRegistry(t, nil)
	var layer bytes.Buffer
	gz := gzip.NewWriter(&layer)
	tw := tar.NewWriter(gz)
	files := map[string]string{"./deploy/app.yaml": "kind: ConfigMap\n", "./kustomization.yaml": "resources:\n- deploy/app.yaml\n"}
	for _, n := range []string{"./deploy/app.yaml", "./kustomization.yaml"} {
		hdr := &tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Uid: 1000, Uname: "ci", ModTime: time.Now()}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[n])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	config := []byte("{}")
	reg.upload(t, "org/other", config)
	reg.upload(t, "org/other", layer.Bytes())
	manifest, err := json.Marshal(rawManifest{
		SchemaVersion: 2,
		MediaType:     "application/vnd.oci.image.manifest.v1+json",
		Config:        rawDescriptor{MediaType: "application/vnd.cncf.flux.config.v1+json", Digest: sha256Digest(config), Size: int64(len(config))},
		Layers:        []rawDescriptor{{MediaType: "application/vnd.cncf.flux.content.v1.tar+gzip", Digest: sha256Digest(layer.Bytes()), Size: int64(layer.Len())}},
		Annotations:   map[string]string{"org.opencontainers.image.revision": "v1@sha1:" + strings.Repeat("e", 40)},
	})
	if err != nil {
		t.Fatal(err)
	}
	reg.put(t, "org/other", "manifests/v1", "application/vnd.oci.image.manifest.v1+json", manifest)

	out := filepath.Join(t.TempDir(), "out")
	_, stderr, err := artifactFlux(t, "", "", "pull", "artifact", reg.url("org/other", ":v1"), "--insecure-registry", "-o", out)
	if err != nil {
		t.Fatalf("pull: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "✔ revision v1@sha1:"+strings.Repeat("e", 40)) {
		t.Errorf("stderr:\n%s", stderr)
	}
	local := t.TempDir()
	for n, content := range files {
		if got, err := os.ReadFile(filepath.Join(out, n)); err != nil || string(got) != content {
			t.Errorf("%s: %q, %v", n, got, err)
		}
		writeTree(t, local, map[string]string{strings.TrimPrefix(n, "./"): content})
	}
	if stdout, _, err := artifactFlux(t, "", "", "diff", "artifact", reg.url("org/other", ":v1"), "--insecure-registry", "--path", local); err != nil || stdout != "" {
		t.Errorf("diff against the same files: %q, %v", stdout, err)
	}
}
