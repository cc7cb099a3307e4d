package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// manifestsTree is a directory of manifests with files the default
// exclusions leave out.
func manifestsTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"apps/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n",
		"apps/config.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
		"kustomization.yaml":   "resources:\n- apps/deployment.yaml\n- apps/config.yaml\n",
		"logo.png":             "png",
		".git/HEAD":            "ref: refs/heads/main\n",
	})
	return dir
}

// TestPushArtifactFluxFormat reads a push back through the registry's HTTP
// API alone: Flux's media types and annotations, and a layer that is byte
// for byte `flux build artifact` of the same directory, which tar lists.
func TestPushArtifactFluxFormat(t *testing.T) {
	reg := startArtifactRegistry(t, nil)
	dir := manifestsTree(t)
	before := time.Now().UTC().Truncate(time.Second)
	_, stderr, err := artifactFlux(t, "", "", pushArgs(reg.url("org/app", ":v1"), dir,
		"-a", "org.opencontainers.image.licenses=Apache-2.0", "--annotations", "team=platform=core")...)
	if err != nil {
		t.Fatalf("push: %v\n%s", err, stderr)
	}
	m, digest := reg.manifest(t, "org/app", "v1")
	if !strings.Contains(stderr, "✔ artifact successfully pushed to "+reg.host+"/org/app@"+digest) {
		t.Errorf("stderr does not name the digest %s:\n%s", digest, stderr)
	}
	if m.SchemaVersion != 2 || m.MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("manifest schema %d, media type %q", m.SchemaVersion, m.MediaType)
	}
	if m.Config.MediaType != "application/vnd.cncf.flux.config.v1+json" {
		t.Errorf("config media type %q", m.Config.MediaType)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != "application/vnd.cncf.flux.content.v1.tar+gzip" {
		t.Fatalf("layers %+v", m.Layers)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.source":   "https://github.com/org/fleet",
		"org.opencontainers.image.revision": "main@sha1:" + strings.Repeat("ab", 20),
		"org.opencontainers.image.licenses": "Apache-2.0",
		"team":                              "platform=core",
	} {
		if got := m.Annotations[k]; got != want {
			t.Errorf("annotation %s = %q, want %q", k, got, want)
		}
	}
	created, err := time.Parse(time.RFC3339, m.Annotations["org.opencontainers.image.created"])
	if err != nil || created.Before(before) || created.After(time.Now().Add(time.Minute)) {
		t.Errorf("created %q (%v): want the time of the push", m.Annotations["org.opencontainers.image.created"], err)
	}

	layer := reg.blob(t, "org/app", m.Layers[0].Digest)
	if int64(len(layer)) != m.Layers[0].Size {
		t.Errorf("layer size %d, descriptor says %d", len(layer), m.Layers[0].Size)
	}
	built, _, err := buildArtifactRun(t, "-p", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Layers[0].Digest, sha256Digest(built); got != want {
		t.Errorf("layer digest %s, flux build artifact of the same directory %s", got, want)
	}
	file := filepath.Join(t.TempDir(), "layer.tgz")
	if err := os.WriteFile(file, layer, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tar", "-tzf", file).CombinedOutput()
	if err != nil {
		t.Fatalf("tar -tzf: %v\n%s", err, out)
	}
	listed := strings.Fields(string(out))
	sort.Strings(listed)
	if got := strings.Join(listed, " "); got != "apps/ apps/config.yaml apps/deployment.yaml kustomization.yaml" {
		t.Errorf("tar lists %s", got)
	}
}

// TestPushArtifactReproducible: two --reproducible pushes of the same
// content give one digest; -o json|yaml print Flux's shape.
func TestPushArtifactReproducible(t *testing.T) {
	reg := startArtifactRegistry(t, nil)
	dir := manifestsTree(t)
	outputs := map[string]string{}
	for _, format := range []string{"json", "yaml"} {
		stdout, stderr, err := artifactFlux(t, "", "", pushArgs(reg.url("org/app", ":"+format), dir, "--reproducible", "-o", format)...)
		if err != nil {
			t.Fatalf("push -o %s: %v\n%s", format, err, stderr)
		}
		outputs[format] = stdout
		checkGolden(t, "push/artifact-"+format+".golden", strings.ReplaceAll(stdout, reg.host, "REGISTRY"))
	}
	mj, dj := reg.manifest(t, "org/app", "json")
	_, dy := reg.manifest(t, "org/app", "yaml")
	if dj != dy {
		t.Errorf("two reproducible pushes of the same content: digests %s and %s", dj, dy)
	}
	if !strings.Contains(outputs["json"], `"digest": "`+dj+`"`) {
		t.Errorf("-o json does not hold the digest %s:\n%s", dj, outputs["json"])
	}
	if got := mj.Annotations["org.opencontainers.image.created"]; got != "1970-01-01T00:00:00Z" {
		t.Errorf("created %q, want 1970-01-01T00:00:00Z", got)
	}
}

// TestPushArtifactOldRevisionFormat: Flux pushes any revision, so a script
// with the older '<branch>/<sha>' form keeps working, with a note.
func TestPushArtifactOldRevisionFormat(t *testing.T) {
	reg := startArtifactRegistry(t, nil)
	dir := manifestsTree(t)
	old := "main/" + strings.Repeat("ab", 20)
	_, stderr, err := artifactFlux(t, "", "", pushArgs(reg.url("org/app", ":old"), dir, "--revision", old)...)
	if err != nil {
		t.Fatalf("push --revision %s: %v\n%s", old, err, stderr)
	}
	if !strings.Contains(stderr, "is not in the <branch|tag>@sha1:<commit-sha> format") {
		t.Errorf("no note about the revision format:\n%s", stderr)
	}
	if m, _ := reg.manifest(t, "org/app", "old"); m.Annotations["org.opencontainers.image.revision"] != old {
		t.Errorf("revision annotation = %q, want %q", m.Annotations["org.opencontainers.image.revision"], old)
	}
}

// TestPushArtifactFileAndStdin: a single file, or standard input, is an
// artifact of that one file.
func TestPushArtifactFileAndStdin(t *testing.T) {
	reg := startArtifactRegistry(t, nil)
	dir := manifestsTree(t)
	file := filepath.Join(dir, "apps", "deployment.yaml")
	if _, stderr, err := artifactFlux(t, "", "", pushArgs(reg.url("org/app", ":file"), file)...); err != nil {
		t.Fatalf("push a file: %v\n%s", err, stderr)
	}
	m, _ := reg.manifest(t, "org/app", "file")
	entries := tarEntries(t, reg.blob(t, "org/app", m.Layers[0].Digest))
	if got := names(entries); got != "deployment.yaml" {
		t.Errorf("artifact of a file: entries %s", got)
	}

	stdin := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n"
	if _, stderr, err := artifactFlux(t, "", stdin, pushArgs(reg.url("org/app", ":stdin"), "-", "--reproducible")...); err != nil {
		t.Fatalf("push stdin: %v\n%s", err, stderr)
	}
	m, _ = reg.manifest(t, "org/app", "stdin")
	entries = tarEntries(t, reg.blob(t, "org/app", m.Layers[0].Digest))
	if got := names(entries); got != "stdin.yaml" || entries["stdin.yaml"] != stdin {
		t.Errorf("artifact of stdin: entries %s, stdin.yaml %q", got, entries["stdin.yaml"])
	}
	// The same input twice gives the same artifact.
	if _, _, err := artifactFlux(t, "", stdin, pushArgs(reg.url("org/app", ":stdin2"), "-", "--reproducible")...); err != nil {
		t.Fatal(err)
	}
	_, d1 := reg.manifest(t, "org/app", "stdin")
	_, d2 := reg.manifest(t, "org/app", "stdin2")
	if d1 != d2 {
		t.Errorf("two reproducible pushes of the same stdin: %s and %s", d1, d2)
	}
}

// TestPushArtifactBadInput: each mistake is refused with a message saying
// what was expected, before anything is sent to the registry.
func TestPushArtifactBadInput(t *testing.T) {
	reg := startArtifactRegistry(t, nil)
	dir := manifestsTree(t)
	url := reg.url("org/app", ":v1")
	rev := "main@sha1:" + strings.Repeat("ab", 20)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no url", []string{"push", "artifact"}, []string{"artifact URL is required"}},
		{"not oci", []string{"push", "artifact", "https://" + reg.host + "/org/app:v1", "-f", dir, "--source", "s", "--revision", rev}, []string{"must start with oci://"}},
		{"missing path", []string{"push", "artifact", url, "--source", "s", "--revision", rev}, []string{"--path is required"}},
		{"missing source", []string{"push", "artifact", url, "-f", dir, "--revision", rev}, []string{"--source is required"}},
		{"missing revision", []string{"push", "artifact", url, "-f", dir, "--source", "s"}, []string{"--revision is required", "<branch|tag>@sha1:<commit-sha>"}},
		{"no such path", pushArgs(url, filepath.Join(dir, "nope")), []string{"--path " + filepath.Join(dir, "nope"), "existing directory or file"}},
		{"bad annotation", pushArgs(url, dir, "-a", "novalue"), []string{`invalid annotation "novalue"`, "key=value"}},
		{"bad output", pushArgs(url, dir, "-o", "table"), []string{`--output "table"`, "json or yaml"}},
		{"digest in url", pushArgs(reg.url("org/app", "@sha256:"+strings.Repeat("0", 64)), dir), []string{"names a digest", "push needs a tag"}},
		{"bad creds", pushArgs(url, dir, "--creds", ":s3cret"), []string{"--creds has no username"}},
		{"bad provider", pushArgs(url, dir, "--provider", "oracle"), []string{`unsupported OCI provider "oracle"`, "generic, aws, azure, gcp"}},
		{"aws provider", pushArgs(url, dir, "--provider", "aws"), []string{"--provider aws: provider 'aws' needs AWS workload identity, which is not built in Driftless yet", "--creds", "docker login", "aws ecr get-login-password"}},
		{"empty stdin", pushArgs(url, "-"), []string{"standard input is empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := artifactFlux(t, "", "", tc.args...)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	if n := reg.requests.Load(); n != 0 {
		t.Errorf("the registry got %d requests for refused input", n)
	}
}

// TestPushArtifactRefused: a registry that answers 401 or 403 gets a
// message saying whether credentials were sent and where they came from,
// never their value; the right ones push.
func TestPushArtifactRefused(t *testing.T) {
	reg := startArtifactRegistry(t, requireBasicAuth("ci", "right-pass", "reader"))
	dir := manifestsTree(t)
	url := reg.url("org/app", ":v1")
	for _, tc := range []struct {
		name, dockerConfig string
		extra              []string
		want               []string
	}{
		{"no credentials", "", nil, []string{"unauthorized", "no credentials were sent", "--creds", "docker login " + reg.host}},
		{"wrong --creds", "", []string{"--creds", "ci:wrong-pass"}, []string{"unauthorized", "credentials were sent and refused", "those of --creds"}},
		{"wrong docker config", writeDockerConfig(t, reg.host, "ci", "wrong-pass"), nil, []string{"unauthorized", "credentials were sent and refused", "docker config"}},
		{"read-only user", writeDockerConfig(t, reg.host, "reader", "reader-pass"), nil, []string{"forbidden", "credentials were sent but do not grant access", "docker config"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := artifactFlux(t, tc.dockerConfig, "", pushArgs(url, dir, tc.extra...)...)
			if err == nil {
				t.Fatal("the push was not refused")
			}
			msg := err.Error()
			for _, w := range append(tc.want, "pushing artifact failed", "registry "+reg.host, "repository org/app", `tag "v1"`) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			for _, secret := range []string{"wrong-pass", "reader-pass", "right-pass"} {
				if strings.Contains(msg, secret) {
					t.Errorf("the error shows a password: %s", msg)
				}
			}
		})
	}
	if _, stderr, err := artifactFlux(t, "", "", pushArgs(url, dir, "--creds", "ci:right-pass")...); err != nil {
		t.Fatalf("push with --creds: %v\n%s", err, stderr)
	}
	if _, stderr, err := artifactFlux(t, writeDockerConfig(t, reg.host, "ci", "right-pass"), "", pushArgs(reg.url("org/app", ":v2"), dir)...); err != nil {
		t.Fatalf("push with the docker config: %v\n%s", err, stderr)
	}
}

// TestPushArtifactNeedsInsecureForHTTP: without --insecure-registry a plain
// HTTP registry is refused, also on the loopback address, and the message
// names the flag.
func TestPushArtifactNeedsInsecureForHTTP(t *testing.T) {
	reg := startArtifactRegistry(t, nil)
	args := pushArgs(reg.url("org/app", ":v1"), manifestsTree(t))
	args = slices.DeleteFunc(args, func(a string) bool { return a == "--insecure-registry" })
	_, _, err := artifactFlux(t, "", "", args...)
	if err == nil || !strings.Contains(err.Error(), "--insecure-registry") || !strings.Contains(err.Error(), "registry "+reg.host) {
		t.Fatalf("want a refusal naming the registry and --insecure-registry, got %v", err)
	}
}
