package chartrepo

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/driftless/driftless/internal/engine/oci"
)

// pushImage pushes one image with a layer of mediaType to host/path:tag.
func pushImage(t *testing.T, host, path, tag, configType, mediaType string, layer []byte) {
	t.Helper()
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: static.NewLayer(layer, types.MediaType(mediaType))})
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.MediaType(configType))
	ref, err := name.NewTag(host+"/"+path+":"+tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
}

func startOCIRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestOCICharts(t *testing.T) {
	host := startOCIRegistry(t)
	for _, v := range []string{"1.0.0", "1.10.0", "1.2.0", "2.0.0-rc.1", "1.2.0+build.1"} {
		pushImage(t, host, "charts/demo", VersionTag(v), ChartConfigMediaType, ChartLayerMediaType, []byte("chart "+v))
	}
	pushImage(t, host, "charts/demo", "latest", ChartConfigMediaType, ChartLayerMediaType, []byte("latest"))
	pushImage(t, host, "charts/demo", "3.0.0", "application/vnd.oci.image.config.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip", []byte("an image"))
	ctx := context.Background()
	client := oci.NewClient(oci.Options{Insecure: true})
	repo, err := oci.ParseURL("oci://" + host + "/charts")
	if err != nil {
		t.Fatal(err)
	}

	versions, err := OCITags(ctx, client, repo, "demo")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"3.0.0", "2.0.0-rc.1", "1.10.0", "1.2.0", "1.2.0+build.1", "1.0.0"}
	if !slices.Equal(versions, want) {
		t.Errorf("versions %v, want %v", versions, want)
	}

	got, err := PullOCIChart(ctx, client, repo, "demo", "1.2.0+build.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != "chart 1.2.0+build.1" || got.Tag != "1.2.0_build.1" || !strings.HasPrefix(got.Digest, "sha256:") {
		t.Errorf("pulled %q tag %s digest %s", got.Data, got.Tag, got.Digest)
	}

	_, err = PullOCIChart(ctx, client, repo, "demo", "3.0.0", 0)
	if !errors.Is(err, ErrNotAChart) || !IsStalling(err) || !strings.Contains(err.Error(), ChartLayerMediaType) ||
		!strings.Contains(err.Error(), "chart 'demo' version '3.0.0'") {
		t.Errorf("image tag: %v", err)
	}
	_, err = PullOCIChart(ctx, client, repo, "demo", "9.9.9", 0)
	if !errors.Is(err, ErrNoVersion) || !errors.Is(err, oci.ErrTagNotFound) || !strings.Contains(err.Error(), "no 'demo' chart with version '9.9.9' found") {
		t.Errorf("missing tag: %v", err)
	}
	_, err = PullOCIChart(ctx, client, repo, "demo", "1.0.0", 4)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the size limit: %v", err)
	}
	if _, err := OCITags(ctx, client, repo, "absent"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "charts/absent") {
		t.Errorf("absent repository: %v", err)
	}
	// Without insecure, the plain HTTP registry is refused.
	if _, err := OCITags(ctx, oci.NewClient(oci.Options{}), repo, "demo"); !errors.Is(err, ErrTLS) {
		t.Errorf("plain HTTP without insecure: %v", err)
	}
}
