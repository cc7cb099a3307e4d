package generator

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestRevision(t *testing.T) {
	trees := map[string]map[string]string{
		"mono": {"apps/a.yaml": "a", "infra/i.yaml": "i"},
		"oci":  {"x.yaml": "x"},
	}
	spec := Spec{Outputs: []Output{
		{Name: "apps", OriginRevision: "@mono", Copy: []Copy{{From: "@mono/apps/**", To: "@artifact/"}}},
		{Name: "infra", Revision: "@oci", Copy: []Copy{{From: "@mono/infra/**", To: "@artifact/"}}},
	}}
	res, _, err := run(t, trees, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^latest@sha256:[0-9a-f]{64}$`).MatchString(res[0].Revision) || res[0].Revision != "latest@"+res[0].Digest {
		t.Errorf("apps revision = %q, digest %q; want latest@<digest>", res[0].Revision, res[0].Digest)
	}
	if res[0].Labels != nil {
		t.Errorf("labels = %v without a pathPattern, want none", res[0].Labels)
	}
	if res[0].Metadata[OriginRevisionKey] != "rev-mono" {
		t.Errorf("apps metadata = %v", res[0].Metadata)
	}
	if res[1].Revision != "rev-oci" || res[1].Metadata != nil {
		t.Errorf("infra revision = %q metadata %v; want the oci source's revision and no metadata", res[1].Revision, res[1].Metadata)
	}

	// Same content built again elsewhere: same revision. A change under
	// infra/ leaves apps' revision alone.
	trees["mono"]["infra/i.yaml"] = "changed"
	again, _, err := run(t, trees, spec)
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Revision != res[0].Revision {
		t.Errorf("apps revision changed with infra content: %q -> %q", res[0].Revision, again[0].Revision)
	}
	if again[1].Digest == res[1].Digest {
		t.Errorf("infra digest did not change with its content")
	}
}

func TestDigestSeesPathsModesAndEmptyDirs(t *testing.T) {
	base := map[string]string{"a/f.yaml": "x"}
	variants := []map[string]string{
		{"a/g.yaml": "x"},                  // renamed
		{"a/f.yaml": "y"},                  // content
		{"a/f.yaml": "x", "b/": ""},        // empty dir added
		{"a/f.yaml": "x", "a/f2.yaml": ""}, // empty file added
		{"a/f.yaml": "x", "exec": ""},      // executable bit set below
	}
	digest := func(files map[string]string) string {
		dir := t.TempDir()
		writeTree(t, dir, files)
		if _, ok := files["exec"]; ok { // marker: make a/f.yaml executable
			if err := os.Remove(filepath.Join(dir, "exec")); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(dir, "a/f.yaml"), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		d, err := contentDigest(root)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d0 := digest(base)
	if d0 != digest(base) {
		t.Fatal("digest is not deterministic")
	}
	for i, v := range variants {
		if digest(v) == d0 {
			t.Errorf("variant %d %v has the base digest", i, v)
		}
	}
}

// TestMonorepoSplit mirrors flux2-kustomize-helm-example's artifacts.yaml:
// a commit under apps/ changes the apps revision only, while both carry the
// commit as origin revision.
func TestMonorepoSplit(t *testing.T) {
	mono := map[string]string{
		"infrastructure/controllers/cert-manager.yaml": "cm",
		"infrastructure/configs/cluster-issuers.yaml":  "ci",
		"apps/base/podinfo/release.yaml":               "release",
		"apps/staging/kustomization.yaml":              "k",
		"clusters/staging/apps.yaml":                   "not copied",
	}
	spec := Spec{Outputs: []Output{
		{Name: "infrastructure", OriginRevision: "@monorepo", Copy: []Copy{{From: "@monorepo/infrastructure/", To: "@artifact/"}}},
		{Name: "apps", OriginRevision: "@monorepo", Copy: []Copy{{From: "@monorepo/apps/", To: "@artifact/"}}},
	}}
	before, _, err := run(t, map[string]map[string]string{"monorepo": mono}, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, before[1].Dir); len(got) != 2 || got["apps/base/podinfo/release.yaml"] != "release" {
		t.Errorf("apps tree = %v", got)
	}
	mono["apps/base/podinfo/release.yaml"] = "release v2"
	after, _, err := run(t, map[string]map[string]string{"monorepo": mono}, spec)
	if err != nil {
		t.Fatal(err)
	}
	if after[0].Revision != before[0].Revision {
		t.Errorf("infrastructure revision changed on an apps commit: %s -> %s", before[0].Revision, after[0].Revision)
	}
	if after[1].Revision == before[1].Revision {
		t.Errorf("apps revision did not change on an apps commit")
	}
	for _, r := range after {
		if r.Metadata[OriginRevisionKey] != "rev-monorepo" {
			t.Errorf("%s origin revision = %v", r.Name, r.Metadata)
		}
	}
}
