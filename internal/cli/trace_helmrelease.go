package cli

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/kinds"
)

// traceHelmRelease renders the chain of an object a Helm release made (it
// carries helm.toolkit.fluxcd.io/name and /namespace): the object, its
// HelmRelease, the HelmChart the chart comes through, and that chart's
// source; or the chartRef object (an OCIRepository) when there is no
// HelmChart.
func traceHelmRelease(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, key, hrKey client.ObjectKey,
	sections [][]pair) ([]byte, error) {
	hk := kinds.HelmRelease()
	hr := hk.New()
	if err := c.Get(ctx, hrKey, hr); err != nil {
		return nil, fmt.Errorf("%s %s is managed by HelmRelease %s, which cannot be read: %w", gvk.Kind, key, hrKey, err)
	}
	sections = append(sections, traceLines(hk, hr))
	chartRef, ok := kinds.HelmReleaseChart(hr.(*helmv2.HelmRelease))
	if !ok {
		src, err := traceSourceChain(ctx, c, hk, hr)
		if err != nil {
			return nil, err
		}
		return alignedSections(append(sections, src...)), nil
	}
	ck := kinds.HelmChart()
	chart := ck.New()
	err := c.Get(ctx, client.ObjectKey{Namespace: chartRef.Namespace, Name: chartRef.Name}, chart)
	if apierrors.IsNotFound(err) {
		sections = append(sections, []pair{{ck.Kind, chartRef.Name}, {"Namespace", chartRef.Namespace}, {"Status", "Not found"}})
		return alignedSections(sections), nil
	}
	if err != nil {
		return nil, fmt.Errorf("getting HelmChart %s/%s, the chart of HelmRelease %s: %w", chartRef.Namespace, chartRef.Name, hrKey, err)
	}
	sections = append(sections, traceLines(ck, chart))
	src, err := traceSource(ctx, c, ck, chart)
	if err != nil {
		return nil, err
	}
	return alignedSections(append(sections, src)), nil
}
