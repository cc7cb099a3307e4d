package kustomize

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// artifactRoot is the extracted artifact most tests build from.
const artifactRoot = "testdata/artifact"

// encrypted matches the toy ciphertext of the decryption hooks below.
var encrypted = regexp.MustCompile(`ENC\[([^\]]*)\]`)

// toyDecryptFile is a DecryptFile hook whose "ciphertext" is ENC[plain];
// it records the sources it is called with as path, key and env.
func toyDecryptFile(calls *[]string) func(SecretSource) ([]byte, error) {
	return func(src SecretSource) ([]byte, error) {
		*calls = append(*calls, fmt.Sprintf("%s key=%s env=%v", src.Path, src.Key, src.Env))
		return encrypted.ReplaceAll(src.Data, []byte("$1")), nil
	}
}

// toyDecrypt is a Decrypt hook that moves the toy ciphertext of an
// annotation into stringData.
func toyDecrypt(obj *unstructured.Unstructured) error {
	const key = "test.driftless.dev/ciphertext"
	annotations := obj.GetAnnotations()
	cipher, ok := annotations[key]
	if !ok {
		return nil
	}
	delete(annotations, key)
	if len(annotations) == 0 {
		annotations = nil
	}
	obj.SetAnnotations(annotations)
	return unstructured.SetNestedField(obj.Object, encrypted.ReplaceAllString(cipher, "$1"), "stringData", "password")
}

func TestBuild(t *testing.T) {
	var fileCalls []string
	cases := []struct {
		name string
		opts Options
	}{
		{name: "base", opts: Options{Path: "apps/base"}},
		{name: "overlay", opts: Options{Path: "./apps/production"}},
		{name: "parent-directory-patch", opts: Options{Path: "/apps/shared-patch"}},
		{name: "generated-nested", opts: Options{Path: "plain"}},
		{name: "target-namespace", opts: Options{Path: "apps/production", TargetNamespace: "tenant-a"}},
		{name: "name-prefix-suffix", opts: Options{Path: "apps/production", NamePrefix: "flux-", NameSuffix: "-v2"}},
		{name: "patches", opts: Options{Path: "apps/production", Patches: []meta.Patch{
			{Patch: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n    patched: strategic-merge\n"},
			{Patch: "- op: replace\n  path: /spec/ports/0/port\n  value: 8080\n",
				Target: &meta.Selector{Kind: "Service", LabelSelector: "app=web"}},
			{Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: any\n  labels:\n    patched: by-target\n",
				Target: &meta.Selector{Version: "v1", Kind: "ConfigMap", Name: "web-config.*"}},
		}}},
		{name: "images", opts: Options{Path: "apps/base", Images: []meta.Image{
			{Name: "nginx", NewTag: "1.27"},
			{Name: "busybox", NewName: "registry.example.com/busybox", Digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		}}},
		{name: "components", opts: Options{Path: "components/app", Components: []string{"../monitoring", "../absent"}, IgnoreMissingComponents: true}},
		{name: "build-metadata", opts: Options{Path: "apps/production", BuildMetadata: []kustomizev1.BuildMetadataOption{
			kustomizev1.OriginAnnotations, kustomizev1.TransformerAnnotations}}},
		{name: "common-metadata", opts: Options{Path: "apps/base", CommonMetadata: &meta.CommonMetadata{
			Labels:      map[string]string{"app": "overridden", "team": "payments"},
			Annotations: map[string]string{"owner": "platform"},
		}}},
		{name: "substitution", opts: Options{Path: "subst", PostBuild: &PostBuild{Vars: map[string]string{
			"region": "eu-west-1", "env": "prod", "replicas": "3", "version": "1.0", "quote": `"`, "tracing": "true",
		}}}},
		{name: "substitution-always-lenient", opts: Options{Path: "subst", PostBuild: &PostBuild{
			Vars: map[string]string{"version": "2.0"}, Strategy: kustomizev1.SubstituteAlways, AllowUndefined: true,
		}}},
		{name: "substitution-with-variables-none", opts: Options{Path: "subst", PostBuild: &PostBuild{
			Strategy: kustomizev1.SubstituteWithVariables,
		}}},
		{name: "secret-generator", opts: Options{Path: "secretgen", DecryptFile: toyDecryptFile(&fileCalls)}},
		{name: "decrypt-objects", opts: Options{Path: "secrets", Decrypt: toyDecrypt}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Build(context.Background(), artifactRoot, tc.opts)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			golden(t, tc.name, res.Manifests)
			sum := sha256.Sum256(res.Manifests)
			if want := "sha256:" + hex.EncodeToString(sum[:]); res.Digest != want {
				t.Errorf("Digest = %s, want %s", res.Digest, want)
			}
			if docs := bytes.Count(res.Manifests, []byte("\n---\n")) + 1; docs != len(res.Objects) {
				t.Errorf("%d objects but %d documents", len(res.Objects), docs)
			}
		})
	}
	want := []string{"secretgen/app.env key= env=true", "secretgen/certs/ca.crt key=ca.crt env=false", "secretgen/token.enc key=token env=false"}
	if strings.Join(fileCalls, ",") != strings.Join(want, ",") {
		t.Errorf("DecryptFile was called with %v, want %v (secretGenerator sources only)", fileCalls, want)
	}
}

// golden compares got with testdata/golden/NAME.yaml, rewriting it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".yaml")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestBuildIsDeterministicAndConcurrent(t *testing.T) {
	opts := Options{Path: "apps/production", PostBuild: &PostBuild{Vars: map[string]string{"a": "b"}}}
	first, err := Build(context.Background(), artifactRoot, opts)
	if err != nil {
		t.Fatal(err)
	}
	digests := make(chan string, 4)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			res, err := Build(context.Background(), artifactRoot, opts)
			if err != nil {
				errs <- err
				return
			}
			digests <- res.Digest
		}()
	}
	for range 4 {
		select {
		case err := <-errs:
			t.Fatal(err)
		case d := <-digests:
			if d != first.Digest {
				t.Fatalf("digest %s differs from %s", d, first.Digest)
			}
		}
	}
}

// snapshot records every path of a tree with its mode, size, time and
// content.
func snapshot(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		line := p + " " + info.Mode().String() + " " + info.ModTime().String()
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += " " + string(data)
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestBuildNeverWritesTheArtifact(t *testing.T) {
	before := snapshot(t, artifactRoot)
	var calls []string
	for _, opts := range []Options{
		{Path: "plain", TargetNamespace: "x", Patches: []meta.Patch{{Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n  namespace: plain\n"}}},
		{Path: "apps/production", NamePrefix: "p-", Images: []meta.Image{{Name: "nginx", NewTag: "1"}}},
		{Path: "secretgen", DecryptFile: toyDecryptFile(&calls)},
	} {
		if _, err := Build(context.Background(), artifactRoot, opts); err != nil {
			t.Fatalf("Build(%s): %v", opts.Path, err)
		}
	}
	if after := snapshot(t, artifactRoot); strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Fatalf("the build changed the artifact")
	}
}

func TestSpecOptions(t *testing.T) {
	spec := &kustomizev1.KustomizationSpec{
		Path: "./apps", TargetNamespace: "ns", NamePrefix: "p-", NameSuffix: "-s",
		Patches: []meta.Patch{{Patch: "x"}}, Images: []meta.Image{{Name: "i"}},
		Components: []string{"c"}, IgnoreMissingComponents: true,
		BuildMetadata:  []kustomizev1.BuildMetadataOption{kustomizev1.OriginAnnotations},
		CommonMetadata: &meta.CommonMetadata{Labels: map[string]string{"a": "b"}},
		PostBuild: &kustomizev1.PostBuild{Substitute: map[string]string{"v": "1"},
			SubstituteStrategy: kustomizev1.SubstituteAlways},
	}
	o := SpecOptions(spec)
	if o.Path != "./apps" || o.TargetNamespace != "ns" || o.NamePrefix != "p-" || o.NameSuffix != "-s" ||
		len(o.Patches) != 1 || len(o.Images) != 1 || len(o.Components) != 1 || !o.IgnoreMissingComponents ||
		len(o.BuildMetadata) != 1 || o.CommonMetadata == nil || o.PostBuild == nil ||
		o.PostBuild.Vars["v"] != "1" || o.PostBuild.Strategy != kustomizev1.SubstituteAlways {
		t.Fatalf("SpecOptions = %+v", o)
	}
	if SpecOptions(&kustomizev1.KustomizationSpec{}).PostBuild != nil {
		t.Fatal("PostBuild set without spec.postBuild")
	}
}

func TestDecryptFileFollowsBasesAndComponents(t *testing.T) {
	root := writeTree(t, map[string]string{
		"app/kustomization.yaml":  kustomization("resources:\n  - ../base\ncomponents:\n  - ../comp\n"),
		"base/kustomization.yaml": kustomization("resources:\n  - ../base2\nsecretGenerator:\n  - name: base\n    envs:\n      - base.env\n"),
		"base/base.env":           "A=ENC[1]\n",
		"base2/kustomization.yaml": kustomization("generatorOptions:\n  disableNameSuffixHash: true\n" +
			"secretGenerator:\n  - name: base2\n    files:\n      - ../shared/key.json\n"),
		"shared/key.json": `{"k": "ENC[2]"}`,
		"comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n" +
			"secretGenerator:\n  - name: comp\n    files:\n      - pem=c.pem\n",
		"comp/c.pem": "ENC[3]",
		// A cycle between local bases does not loop the walk.
		"loop/kustomization.yaml":  kustomization("resources:\n  - ../loop2\n"),
		"loop2/kustomization.yaml": kustomization("resources:\n  - ../loop\n"),
	})
	var calls []string
	res, err := Build(context.Background(), root, Options{Path: "app", DecryptFile: toyDecryptFile(&calls)})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	want := []string{"base/base.env key= env=true", "comp/c.pem key=pem env=false", "shared/key.json key= env=false"}
	if strings.Join(calls, ",") != strings.Join(want, ",") {
		t.Errorf("DecryptFile calls = %v, want %v", calls, want)
	}
	if !bytes.Contains(res.Manifests, []byte("A: MQ==")) || bytes.Contains(res.Manifests, []byte("RU5D")) {
		t.Errorf("decrypted content not used:\n%s", res.Manifests)
	}
	_, err = Build(context.Background(), root, Options{Path: "loop", DecryptFile: toyDecryptFile(&calls)})
	if err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle error = %v", err)
	}
}
