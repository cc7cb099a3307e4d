package cli

import (
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

// createSourceChartOptions are the flags of `flux create source chart`, named
// as Flux v2.9 names them.
type createSourceChartOptions struct {
	chart, chartVersion, source, reconcileStrategy string
	verify                                         createSourceOCIOptions // only its --verify-* flags
}

func newCreateSourceChartCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createSourceChartOptions{}
	k := kinds.HelmChart()
	cmd := newCreateKindCommand(f, common, k, &cobra.Command{
		Short: "Create or update a HelmChart source",
		Long:  `The create source chart command generates a HelmChart resource and waits for the chart to be available.`,
		Example: `  # Create a source for a chart residing in a HelmRepository
  flux create source chart podinfo \
    --source=HelmRepository/podinfo \
    --chart=podinfo \
    --chart-version=6.x

  # Create a source for a chart residing in a Git repository
  flux create source chart podinfo \
    --source=GitRepository/podinfo \
    --chart=./charts/podinfo

  # Create a source for a chart residing in a S3 Bucket
  flux create source chart podinfo \
    --source=Bucket/podinfo \
    --chart=./charts/podinfo

  # Create a source for a chart from OCI and verify its signature
  flux create source chart podinfo \
    --source HelmRepository/podinfo \
    --chart podinfo \
    --chart-version=6.6.2 \
    --verify-provider=cosign \
    --verify-issuer=https://token.actions.githubusercontent.com \
    --verify-subject=https://github.com/stefanprodan/podinfo/.github/workflows/release.yml@refs/tags/6.6.2`,
	}, func(name, ns string) (kinds.Object, error) {
		return o.build(name, ns, common, f.Err)
	})
	fl := cmd.Flags()
	fl.StringVar(&o.chart, "chart", "", "Helm chart name or path")
	fl.StringVar(&o.chartVersion, "chart-version", "",
		"Helm chart version, accepts a semver range (ignored for charts from GitRepository sources)")
	fl.StringVar(&o.source, "source", "", "source that contains the chart in the format '<kind>/<name>', "+
		"where kind must be one of: ("+strings.Join(k.SourceKinds, ", ")+")")
	fl.StringVar(&o.reconcileStrategy, "reconcile-strategy", sourcev1.ReconcileStrategyChartVersion,
		"the reconcile strategy for helm chart (accepted values: ChartVersion and Revision)")
	fl.StringVar(&o.verify.verifyProvider, "verify-provider", "",
		"the OCI verification provider name to use for signature verification, available options are: (cosign, notation)")
	fl.StringVar(&o.verify.verifySecretRef, "verify-secret-ref", "", "the name of a secret to use for signature verification")
	fl.StringVar(&o.verify.verifySubject, "verify-subject", "", "regular expression to use for the OIDC subject during signature verification")
	fl.StringVar(&o.verify.verifyIssuer, "verify-issuer", "", "regular expression to use for the OIDC issuer during signature verification")
	return cmd
}

// build checks the flags and returns the HelmChart they describe.
// Warnings (a flag the controller ignores) go to warn.
func (o *createSourceChartOptions) build(name, ns string, common *createOptions, warn io.Writer) (*sourcev1.HelmChart, error) {
	ref, err := parseChartSource(o.source)
	if err != nil {
		return nil, err
	}
	if err := o.checkChart(ref.Kind, warn); err != nil {
		return nil, err
	}
	switch o.reconcileStrategy {
	case sourcev1.ReconcileStrategyChartVersion, sourcev1.ReconcileStrategyRevision:
	default:
		return nil, fmt.Errorf("reconcile strategy %q in --reconcile-strategy is not supported, must be one of: %s, %s",
			o.reconcileStrategy, sourcev1.ReconcileStrategyChartVersion, sourcev1.ReconcileStrategyRevision)
	}
	v, err := o.verify.verify()
	if err != nil {
		return nil, err
	}
	objMeta, interval, err := common.reconciled(name, ns)
	if err != nil {
		return nil, err
	}
	chart := &sourcev1.HelmChart{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.HelmChartKind},
		ObjectMeta: objMeta,
		Spec: sourcev1.HelmChartSpec{
			Chart:             o.chart,
			Version:           o.chartVersion,
			SourceRef:         ref,
			Interval:          interval,
			ReconcileStrategy: o.reconcileStrategy,
		},
	}
	if v != nil {
		// The API verifies charts from (OCI) HelmRepositories only.
		if ref.Kind != sourcev1.HelmRepositoryKind {
			return nil, fmt.Errorf("--verify-provider verifies charts pulled from an OCI HelmRepository, not from a %s: "+
				"leave out the --verify-* flags", ref.Kind)
		}
		chart.Spec.Verify = &sourcev1.HelmChartVerification{
			Provider: v.Provider, SecretRef: v.SecretRef, MatchOIDCIdentity: v.MatchOIDCIdentity,
		}
	}
	return chart, nil
}

// parseChartSource reads --source: <kind>/<name>, the kind one of
// HelmChart's source kinds in any case (helmrepository/podinfo), the source
// in the chart's own namespace.
func parseChartSource(s string) (sourcev1.LocalHelmChartSourceReference, error) {
	var ref sourcev1.LocalHelmChartSourceReference
	sourceKinds := kinds.HelmChart().SourceKinds
	if s == "" {
		return ref, fmt.Errorf("chart source is required: add --source=<kind>/<name>, where kind is one of: %s",
			strings.Join(sourceKinds, ", "))
	}
	kind, name, ok := strings.Cut(s, "/")
	if !ok || kind == "" || name == "" {
		return ref, fmt.Errorf("invalid --source %q: write it as <kind>/<name>, e.g. HelmRepository/podinfo", s)
	}
	for _, k := range sourceKinds {
		if strings.EqualFold(k, kind) {
			ref.Kind = k
		}
	}
	if ref.Kind == "" {
		return ref, fmt.Errorf("source kind %q in --source %q is not supported, must be one of: %s",
			kind, s, strings.Join(sourceKinds, ", "))
	}
	if err := checkObjectName("--source", name, ref.Kind); err != nil {
		return ref, fmt.Errorf("%w (the source is in the chart's namespace: give it with -n, not in --source)", err)
	}
	ref.Name = name
	return ref, nil
}

// checkChart checks --chart and --chart-version for a source of kind: a
// chart name and a semver range in a HelmRepository, a relative path in a
// GitRepository or Bucket, whose Chart.yaml gives the version.
func (o *createSourceChartOptions) checkChart(kind string, warn io.Writer) error {
	if o.chart == "" {
		return fmt.Errorf("chart name or path is required: add --chart=<name> for a chart of a HelmRepository, " +
			"or --chart=./<path> for a chart directory in a GitRepository or Bucket")
	}
	if kind == sourcev1.HelmRepositoryKind {
		if strings.Contains(o.chart, "/") {
			return fmt.Errorf("invalid --chart %q: a chart of a HelmRepository is named, not a path: give its name, e.g. --chart=podinfo", o.chart)
		}
		if o.chartVersion != "" {
			if _, err := semver.NewConstraint(o.chartVersion); err != nil {
				return fmt.Errorf("invalid --chart-version %q: %v; write a version or a range such as '6.x' or '>=1.0.0 <2.0.0'",
					o.chartVersion, err)
			}
		}
		return nil
	}
	if p := path.Clean(strings.TrimPrefix(o.chart, "/")); p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("invalid --chart %q: the chart path must stay inside the %s, e.g. --chart=./charts/podinfo", o.chart, kind)
	}
	if o.chartVersion != "" {
		fmt.Fprintf(warn, "⚠️ --chart-version is ignored for charts from a %s: the version is the one of the chart's Chart.yaml\n", kind)
	}
	return nil
}
