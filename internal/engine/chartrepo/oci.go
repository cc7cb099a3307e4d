package chartrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/driftless/driftless/internal/engine/oci"
)

// The media types of a Helm chart in an OCI registry.
const (
	ChartLayerMediaType  = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	ChartConfigMediaType = "application/vnd.cncf.helm.config.v1+json"
)

// ChartRepository returns the OCI repository of chart in the HelmRepository
// repo (oci://host/path): oci://host/path/chart.
func ChartRepository(repo oci.Repository, chart string) oci.Repository {
	return oci.Repository{Registry: repo.Registry, Path: strings.TrimSuffix(repo.Path, "/") + "/" + chart}
}

// VersionTag returns the OCI tag of a chart version: "+" is not allowed
// in a tag, so Helm writes it "_".
func VersionTag(version string) string { return strings.ReplaceAll(version, "+", "_") }

// TagVersion returns the chart version of an OCI tag, "_" mapped back to
// "+".
func TagVersion(tag string) string { return strings.ReplaceAll(tag, "_", "+") }

// OCITags lists the versions of chart in the OCI HelmRepository repo:
// every tag that reads as a semver version once "_" is mapped back to
// "+", newest first (equal versions by their text). Tags that are not
// versions (latest, signatures) are left out.
func OCITags(ctx context.Context, client *oci.Client, repo oci.Repository, chart string) ([]string, error) {
	r := ChartRepository(repo, chart)
	tags, err := client.Tags(ctx, r)
	if err != nil {
		return nil, ociError(r, chart, "", err)
	}
	type tv struct {
		text string
		v    *semver.Version
	}
	var vs []tv
	for _, t := range tags {
		s := TagVersion(t)
		if v, err := semver.NewVersion(s); err == nil {
			vs = append(vs, tv{s, v})
		}
	}
	slices.SortStableFunc(vs, func(a, b tv) int {
		if c := b.v.Compare(a.v); c != 0 {
			return c
		}
		return strings.Compare(a.text, b.text)
	})
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.text
	}
	return out, nil
}

// OCIChart is a chart pulled from an OCI registry.
type OCIChart struct {
	// Data is the chart archive (the chart layer as stored).
	Data []byte
	// Tag is the tag pulled (the version with "+" written "_").
	Tag string
	// Digest is the manifest digest the tag pointed at ("sha256:<hex>").
	Digest string
	// URL is oci://host/path/chart:tag, for messages.
	URL string
}

// PullOCIChart pulls version of chart from the OCI HelmRepository repo:
// the tag is resolved to a digest once, then the layer of media type
// ChartLayerMediaType is read from that manifest, bounded by maxSize
// (DefaultMaxChartSize when 0) and digest-checked by the client. A tag
// whose manifest has no chart layer fails with ErrNotAChart.
func PullOCIChart(ctx context.Context, client *oci.Client, repo oci.Repository, chart, version string, maxSize int64) (*OCIChart, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxChartSize
	}
	r := ChartRepository(repo, chart)
	tag := VersionTag(version)
	res, err := client.Resolve(ctx, r, oci.Selector{Tag: tag})
	if err != nil {
		return nil, ociError(r, chart, version, err)
	}
	dir, err := os.MkdirTemp("", "chartrepo-pull-*")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	file := filepath.Join(dir, "chart.tgz")
	_, err = client.Pull(ctx, r, res.Digest, oci.PullOptions{
		MediaType: ChartLayerMediaType, Operation: oci.OperationCopy, File: file, MaxSize: maxSize,
	})
	if err != nil {
		return nil, ociError(r, chart, version, err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return &OCIChart{Data: data, Tag: tag, Digest: res.Digest, URL: r.String() + ":" + tag}, nil
}

// ociError turns an error of the OCI client into an *Error of this
// package's kinds, keeping the client's error as the cause (errors.Is
// matches the oci kinds too).
func ociError(r oci.Repository, chart, version string, err error) error {
	kinds := []struct{ from, to error }{
		{oci.ErrLayerNotFound, ErrNotAChart},
		{oci.ErrUnauthorized, ErrUnauthorized},
		{oci.ErrForbidden, ErrForbidden},
		{oci.ErrTagNotFound, ErrNoVersion},
		{oci.ErrNotFound, ErrNotFound},
		{oci.ErrTooLarge, ErrTooLarge},
		{oci.ErrDigestMismatch, ErrDigestMismatch},
		{oci.ErrTimeout, ErrTimeout},
		{oci.ErrTLS, ErrTLS},
		{oci.ErrUnreachable, ErrUnreachable},
		{oci.ErrInvalidSelector, ErrInvalidURL},
	}
	kind := ErrServer
	for _, k := range kinds {
		if errors.Is(err, k.from) {
			kind = k.to
			break
		}
	}
	out := &Error{Kind: kind, URL: r.String(), Chart: chart, Version: version, Err: err}
	if kind == ErrNotAChart {
		out.Detail = fmt.Sprintf("the tag %q has no layer of media type %s", VersionTag(version), ChartLayerMediaType)
	}
	return out
}
