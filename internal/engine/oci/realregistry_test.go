package oci

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/driftless/driftless/internal/testkit/ocitest"
	"github.com/driftless/driftless/internal/testkit/tartest"
)

// debianRegistryEnv overrides where Debian's docker-registry is.
const debianRegistryEnv = "OCITEST_DEBIAN_REGISTRY_BIN"

// debianRegistry is Debian's docker-registry 2.8, which .ci/run installs:
// unlike distribution v3 it ignores n and lists tags unsorted.
func debianRegistry(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(debianRegistryEnv)
	if bin == "" {
		bin = "/usr/bin/docker-registry"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the test needs Debian's docker-registry (apt-get install docker-registry, as .ci/run does, or set %s): %v", debianRegistryEnv, err)
	}
	return bin
}

// TestResolveAndListOnRealRegistries resolves a semver range and lists the
// tags on both real registries the project tests against: more tags than a
// page, tagged in a shuffled order, a v-prefixed highest version kept as
// written, and a prerelease the range leaves out.
func TestResolveAndListOnRealRegistries(t *testing.T) {
	for _, c := range []struct {
		name string
		bin  func(testing.TB) string
	}{
		{"distribution v3", ocitest.RegistryBinary},
		{"Debian docker-registry 2.8", debianRegistry},
	} {
		t.Run(c.name, func(t *testing.T) {
			reg := ocitest.Start(t, ocitest.Options{Binary: c.bin(t)})
			ctx := context.Background()
			client := NewClient(Options{Insecure: true})
			repo, err := ParseURL("oci://" + reg.Host + "/fleet/app")
			if err != nil {
				t.Fatal(err)
			}
			digest, err := client.Push(ctx, repo, "seed", tartest.TarGz(t, tartest.Entry{Name: "a.yaml", Content: "a: 1\n"}),
				PushOptions{Source: "https://example.com/fleet", Revision: "main@sha1:" + fmt.Sprintf("%040d", 1)})
			if err != nil {
				t.Fatal(err)
			}
			var tags []string
			for i := range 130 {
				tags = append(tags, fmt.Sprintf("1.%d.0", i))
			}
			tags = append(tags, "v1.130.0", "2.0.0-rc.1")
			rand.Shuffle(len(tags), func(i, j int) { tags[i], tags[j] = tags[j], tags[i] })
			for _, tag := range tags {
				if err := client.Tag(ctx, repo, digest, tag); err != nil {
					t.Fatalf("tag %s: %v", tag, err)
				}
			}
			got, err := client.Resolve(ctx, repo, Selector{SemVer: ">=1.0.0 <3.0.0"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Tag != "v1.130.0" || got.Digest != digest || got.Revision != "v1.130.0@"+digest {
				t.Errorf("resolved %+v, want v1.130.0@%s", got, digest)
			}
			listed, err := client.List(ctx, repo, ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(listed) != len(tags)+1 {
				t.Errorf("listed %d tags, want %d", len(listed), len(tags)+1)
			}
		})
	}
}
