package controllertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/artifact"
)

// ArtifactFiles downloads a source's artifact over HTTP, as a consumer
// does (its digest checked), and returns its files by slash-separated path
// with their content.
func ArtifactFiles(t testing.TB, a *meta.Artifact) map[string]string {
	t.Helper()
	dir := t.TempDir()
	f, err := artifact.NewFetcher(artifact.FetcherOptions{Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Fetch(context.Background(), a.URL, a.Digest, dir); err != nil {
		t.Fatalf("fetch %s: %v", a.URL, err)
	}
	out := map[string]string{}
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
