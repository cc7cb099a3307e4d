package helmtest

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/driftless/driftless/internal/engine/cosign/cosigntest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
)

// The media types of a chart in an OCI registry, as Helm pushes it.
const (
	ConfigMediaType     = "application/vnd.cncf.helm.config.v1+json"
	ChartLayerMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
)

// OCIChart is a chart pushed to an OCI registry.
type OCIChart struct {
	// RepositoryURL is oci://<host>/<base>, the URL of a HelmRepository of
	// type oci holding the chart (what `helm push` is given).
	RepositoryURL string
	// ChartURL is oci://<host>/<base>/<name>, what `helm pull` takes.
	ChartURL string
	// Repository is the OCI repository <host>/<base>/<name>.
	Repository name.Repository
	// Tag is the chart's version with '+' written '_', as Helm tags.
	Tag string
	// Digest is the manifest's digest.
	Digest v1.Hash
	// Archive is the pushed chart layer, the packaged chart.
	Archive []byte

	remote []remote.Option
}

// Ref is <host>/<base>/<name>:<tag>.
func (o *OCIChart) Ref() string { return o.Repository.Tag(o.Tag).String() }

// PushOCI pushes chart to reg under charts/<name>, as `helm push
// <chart>.tgz oci://<host>/charts` does.
func PushOCI(t testing.TB, reg *ocitest.Registry, chart *Chart) *OCIChart {
	t.Helper()
	return PushOCITo(t, reg, "charts", chart)
}

// PushOCITo pushes chart to reg under base/<name>, as `helm push
// <chart>.tgz oci://<host>/<base>` does: a manifest whose config is
// Chart.yaml as JSON (application/vnd.cncf.helm.config.v1+json), one layer
// the packaged chart (application/vnd.cncf.helm.chart.content.v1.tar+gzip),
// the OCI annotations Helm sets from Chart.yaml, tagged with the version
// ('+' written '_').
func PushOCITo(t testing.TB, reg *ocitest.Registry, base string, chart *Chart) *OCIChart {
	t.Helper()
	o, err := pushOCI(reg, base, chart)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// RemoteOptions are the go-containerregistry options that reach reg: its
// TLS configuration and its account.
func RemoteOptions(reg *ocitest.Registry) []remote.Option {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = reg.TLSConfig()
	opts := []remote.Option{remote.WithTransport(tr)}
	if reg.Username != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: reg.Username, Password: reg.Password}))
	}
	return opts
}

// OCITag is the tag Helm gives a chart version: '+' is not allowed in a
// tag, so it is written '_'.
func OCITag(version string) string { return strings.ReplaceAll(version, "+", "_") }

func pushOCI(reg *ocitest.Registry, base string, chart *Chart) (*OCIChart, error) {
	base = strings.Trim(base, "/")
	archive, err := chart.Package()
	if err != nil {
		return nil, err
	}
	md := chart.Metadata()
	config, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("helmtest: chart %s config: %w", md.Name, err)
	}
	var nameOpts []name.Option
	if reg.CA == nil {
		nameOpts = append(nameOpts, name.Insecure)
	}
	repoName, err := name.NewRepository(reg.Ref(base+"/"+md.Name), nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("helmtest: repository %s/%s: %w", base, md.Name, err)
	}
	opts := append(RemoteOptions(reg), remote.WithContext(context.Background()))
	configLayer := static.NewLayer(config, ConfigMediaType)
	chartLayer := static.NewLayer(archive, ChartLayerMediaType)
	var descs []v1.Descriptor
	for _, l := range []v1.Layer{configLayer, chartLayer} {
		if err := remote.WriteLayer(repoName, l, opts...); err != nil {
			return nil, fmt.Errorf("helmtest: push chart %s %s to %s: blob: %w", md.Name, md.Version, repoName, err)
		}
		d, err := l.Digest()
		if err != nil {
			return nil, err
		}
		size, err := l.Size()
		if err != nil {
			return nil, err
		}
		mt, err := l.MediaType()
		if err != nil {
			return nil, err
		}
		descs = append(descs, v1.Descriptor{MediaType: mt, Digest: d, Size: size})
	}
	annotations := map[string]string{
		"org.opencontainers.image.title":   md.Name,
		"org.opencontainers.image.version": md.Version,
		"org.opencontainers.image.created": ModTime.Format(time.RFC3339),
	}
	if md.Description != "" {
		annotations["org.opencontainers.image.description"] = md.Description
	}
	manifest := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        descs[0],
		Layers:        descs[1:],
		Annotations:   annotations,
	}
	raw, err := json.Marshal(manifest)
	if err != nil {
		return nil, err
	}
	tag := OCITag(md.Version)
	if err := remote.Put(repoName.Tag(tag), rawManifest{raw: raw, mediaType: types.OCIManifestSchema1}, opts...); err != nil {
		return nil, fmt.Errorf("helmtest: push chart %s %s to %s:%s: manifest: %w", md.Name, md.Version, repoName, tag, err)
	}
	digest, _, err := v1.SHA256(strings.NewReader(string(raw)))
	if err != nil {
		return nil, err
	}
	return &OCIChart{
		RepositoryURL: "oci://" + reg.Ref(base),
		ChartURL:      "oci://" + reg.Ref(base+"/"+md.Name),
		Repository:    repoName,
		Tag:           tag,
		Digest:        digest,
		Archive:       archive,
		remote:        opts,
	}, nil
}

type rawManifest struct {
	raw       []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

// SignBundle signs the pushed chart with priv as `cosign sign --key` does
// by default (cosign v3's Sigstore bundle referrer), with cosigntest.
func (o *OCIChart) SignBundle(t testing.TB, priv crypto.Signer, opts ...cosigntest.Option) {
	t.Helper()
	opts = append([]cosigntest.Option{cosigntest.WithRemote(o.remote...)}, opts...)
	if err := cosigntest.SignBundle(context.Background(), o.Repository, o.Digest, priv, opts...); err != nil {
		t.Fatalf("helmtest: sign %s@%s: %v", o.Repository, o.Digest, err)
	}
}

// SignLegacy signs the pushed chart with priv in cosign's legacy format
// (the sha256-<hex>.sig tag, `--new-bundle-format=false`), with cosigntest.
func (o *OCIChart) SignLegacy(t testing.TB, priv crypto.Signer, opts ...cosigntest.Option) {
	t.Helper()
	opts = append([]cosigntest.Option{cosigntest.WithRemote(o.remote...)}, opts...)
	if err := cosigntest.SignLegacy(context.Background(), o.Repository, o.Digest, priv, opts...); err != nil {
		t.Fatalf("helmtest: sign %s@%s: %v", o.Repository, o.Digest, err)
	}
}
