package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

// createHelmReleaseOptions are the flags of `flux create helmrelease`, named
// as Flux v2.9 names them.
type createHelmReleaseOptions struct {
	releaseName, source, chart, chartVersion, chartRef string
	dependsOn                                          []string
	targetNamespace, storageNamespace                  string
	createNamespace                                    bool
	serviceAccount, reconcileStrategy                  string
	chartInterval                                      time.Duration
	valuesFiles, valuesFrom                            []string
	crds, kubeConfigSecretRef                          string
}

// valuesFromKinds are the kinds --values-from names, as Flux.
var valuesFromKinds = []string{"Secret", "ConfigMap"}

// crdsPolicies are the values of --crds.
var crdsPolicies = []helmv2.CRDsPolicy{helmv2.Skip, helmv2.Create, helmv2.CreateReplace}

func newCreateHelmReleaseCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createHelmReleaseOptions{}
	k := kinds.HelmRelease()
	cmd := newCreateKindCommand(f, common, k, &cobra.Command{
		Short: "Create or update a HelmRelease resource",
		Long: `The helmrelease create command generates a HelmRelease resource for a chart of a HelmRepository,
GitRepository or Bucket source (--source and --chart), or for the chart of an OCIRepository or HelmChart
(--chart-ref), applies it and waits for the release to be Ready.`,
		Example: `  # Create a HelmRelease with a chart from a HelmRepository source
  flux create hr podinfo \
    --interval=10m \
    --source=HelmRepository/podinfo \
    --chart=podinfo \
    --chart-version=">4.0.0"

  # Create a HelmRelease with a chart from a GitRepository source
  flux create hr podinfo \
    --interval=10m \
    --source=GitRepository/podinfo \
    --chart=./charts/podinfo

  # Create a HelmRelease with a chart from an OCIRepository
  flux create hr podinfo \
    --interval=10m \
    --chart-ref=OCIRepository/podinfo.flux-system

  # Create a HelmRelease with values from local YAML files, merged in order
  flux create hr podinfo \
    --source=HelmRepository/podinfo \
    --chart=podinfo \
    --values=./my-values1.yaml \
    --values=./my-values2.yaml

  # Create a HelmRelease with values from a Kubernetes secret
  kubectl -n app create secret generic my-secret-values \
    --from-file=values.yaml=/path/to/my-secret-values.yaml
  flux -n app create hr podinfo \
    --source=HelmRepository/podinfo \
    --chart=podinfo \
    --values-from=Secret/my-secret-values

  # Create a HelmRelease targeting another namespace than the resource
  flux create hr podinfo \
    --target-namespace=test \
    --create-target-namespace=true \
    --source=HelmRepository/podinfo \
    --chart=podinfo

  # Create a HelmRelease definition on disk without applying it on the cluster
  flux create hr podinfo \
    --source=HelmRepository/podinfo \
    --chart=podinfo \
    --values=./values.yaml \
    --export > podinfo-release.yaml`,
	}, func(name, ns string) (kinds.Object, error) {
		return o.build(name, ns, common, f.Err)
	})
	fl := cmd.Flags()
	fl.StringVar(&o.releaseName, "release-name", "",
		"name used for the Helm release, defaults to a composition of '[<target-namespace>-]<HelmRelease-name>'")
	fl.StringVar(&o.source, "source", "", "source that contains the chart in the format '<kind>/<name>.<namespace>', "+
		"where kind must be one of: ("+strings.Join(k.SourceKinds, ", ")+")")
	fl.StringVar(&o.chart, "chart", "", "Helm chart name or path")
	fl.StringVar(&o.chartVersion, "chart-version", "",
		"Helm chart version, accepts a semver range (ignored for charts from GitRepository sources)")
	fl.StringVar(&o.chartRef, "chart-ref", "", "the chart to release, in the format '<kind>/<name>.<namespace>', "+
		"where kind must be one of: ("+strings.Join(kinds.ChartRefKinds, ", ")+")")
	fl.StringSliceVar(&o.dependsOn, "depends-on", nil,
		"HelmReleases that must be ready before this release can be installed, supported formats '<name>' and '<namespace>/<name>'")
	fl.StringVar(&o.targetNamespace, "target-namespace", "", "namespace to install this release, defaults to the HelmRelease namespace")
	fl.StringVar(&o.storageNamespace, "storage-namespace", "", "namespace to store the Helm release, defaults to the HelmRelease namespace")
	fl.BoolVar(&o.createNamespace, "create-target-namespace", false, "create the target namespace if it does not exist")
	fl.StringVar(&o.serviceAccount, "service-account", "", "the name of the service account to impersonate when reconciling this HelmRelease")
	fl.StringVar(&o.reconcileStrategy, "reconcile-strategy", sourcev1.ReconcileStrategyChartVersion,
		"the reconcile strategy for helm chart created by the helm release (accepted values: Revision and ChartVersion)")
	fl.DurationVar(&o.chartInterval, "chart-interval", 0, "the interval of which to check for new chart versions")
	fl.StringSliceVar(&o.valuesFiles, "values", nil, "local path to values.yaml files, also accepts comma-separated values")
	fl.StringSliceVar(&o.valuesFrom, "values-from", nil, "a Kubernetes object reference that contains the values.yaml data key "+
		"in the format '<kind>/<name>', where kind must be one of: ("+strings.Join(valuesFromKinds, ",")+")")
	fl.StringVar(&o.crds, "crds", "", "upgrade CRDs policy, available options are: (Skip, Create, CreateReplace)")
	fl.StringVar(&o.kubeConfigSecretRef, "kubeconfig-secret-ref", "",
		"the name of the Kubernetes Secret that contains a key with the kubeconfig file for connecting to a remote cluster")
	return cmd
}

// build checks the flags and returns the HelmRelease they describe, as
// Flux's CLI writes it. Warnings go to warn.
func (o *createHelmReleaseOptions) build(name, ns string, common *createOptions, warn io.Writer) (*helmv2.HelmRelease, error) {
	objMeta, interval, err := common.reconciled(name, ns)
	if err != nil {
		return nil, err
	}
	hr := &helmv2.HelmRelease{
		TypeMeta:   metav1.TypeMeta{APIVersion: helmv2.GroupVersion.String(), Kind: helmv2.HelmReleaseKind},
		ObjectMeta: objMeta,
		Spec: helmv2.HelmReleaseSpec{
			Interval:           interval,
			ReleaseName:        o.releaseName,
			TargetNamespace:    o.targetNamespace,
			StorageNamespace:   o.storageNamespace,
			ServiceAccountName: o.serviceAccount,
		},
	}
	if err := o.setChart(hr, warn); err != nil {
		return nil, err
	}
	if err := o.checkNames(); err != nil {
		return nil, err
	}
	for _, d := range o.dependsOn {
		dep, err := parseDependency(d)
		if err != nil {
			return nil, err
		}
		hr.Spec.DependsOn = append(hr.Spec.DependsOn, dep)
	}
	if o.kubeConfigSecretRef != "" {
		if errs := validation.IsDNS1123Subdomain(o.kubeConfigSecretRef); len(errs) > 0 {
			return nil, fmt.Errorf("invalid --kubeconfig-secret-ref %q: %s", o.kubeConfigSecretRef, strings.Join(errs, "; "))
		}
		hr.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: o.kubeConfigSecretRef}}
	}
	if o.createNamespace {
		hr.Spec.Install = &helmv2.Install{CreateNamespace: true}
	}
	if o.crds != "" {
		policy, err := parseCRDsPolicy(o.crds)
		if err != nil {
			return nil, err
		}
		// As Flux: the install creates the CRDs, the policy governs upgrades.
		if hr.Spec.Install == nil {
			hr.Spec.Install = &helmv2.Install{}
		}
		hr.Spec.Install.CRDs = helmv2.Create
		hr.Spec.Upgrade = &helmv2.Upgrade{CRDs: policy}
	}
	if hr.Spec.Values, err = mergeValuesFiles(o.valuesFiles); err != nil {
		return nil, err
	}
	for _, v := range o.valuesFrom {
		ref, err := parseValuesFrom(v)
		if err != nil {
			return nil, err
		}
		hr.Spec.ValuesFrom = append(hr.Spec.ValuesFrom, ref)
	}
	return hr, nil
}

// setChart sets spec.chart from --source, --chart, --chart-version,
// --reconcile-strategy and --chart-interval, or spec.chartRef from
// --chart-ref: exactly one of them.
func (o *createHelmReleaseOptions) setChart(hr *helmv2.HelmRelease, warn io.Writer) error {
	if o.chartRef != "" {
		if o.source != "" || o.chart != "" || o.chartVersion != "" {
			return errors.New("--chart-ref names the chart on its own: leave out --source, --chart and --chart-version, " +
				"or leave out --chart-ref to have the release's HelmChart made from --source and --chart")
		}
		if o.chartInterval != 0 {
			return errors.New("--chart-interval sets the interval of the HelmChart made from --source and --chart: " +
				"it has no effect with --chart-ref, leave it out")
		}
		kind, name, ns, err := parseKindNameNamespace("--chart-ref", o.chartRef, kinds.ChartRefKinds)
		if err != nil {
			return err
		}
		hr.Spec.ChartRef = &helmv2.CrossNamespaceSourceReference{Kind: kind, Name: name, Namespace: ns}
		return nil
	}
	if o.source == "" && o.chart == "" {
		return fmt.Errorf("a chart is required: add --source=<kind>/<name>[.<namespace>] and --chart=<name or path>, "+
			"or --chart-ref=<kind>/<name>[.<namespace>] where kind is one of: %s", strings.Join(kinds.ChartRefKinds, ", "))
	}
	if o.source == "" {
		return fmt.Errorf("chart source is required: add --source=<kind>/<name>[.<namespace>], where kind is one of: %s",
			strings.Join(kinds.HelmRelease().SourceKinds, ", "))
	}
	kind, name, ns, err := parseKindNameNamespace("--source", o.source, kinds.HelmRelease().SourceKinds)
	if err != nil {
		return err
	}
	chartFlags := createSourceChartOptions{chart: o.chart, chartVersion: o.chartVersion}
	if err := chartFlags.checkChart(kind, warn); err != nil {
		return err
	}
	switch o.reconcileStrategy {
	case sourcev1.ReconcileStrategyChartVersion, sourcev1.ReconcileStrategyRevision:
	default:
		return fmt.Errorf("reconcile strategy %q in --reconcile-strategy is not supported, must be one of: %s, %s",
			o.reconcileStrategy, sourcev1.ReconcileStrategyChartVersion, sourcev1.ReconcileStrategyRevision)
	}
	hr.Spec.Chart = &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
		Chart:             o.chart,
		Version:           o.chartVersion,
		SourceRef:         helmv2.CrossNamespaceObjectReference{Kind: kind, Name: name, Namespace: ns},
		ReconcileStrategy: o.reconcileStrategy,
	}}
	switch {
	case o.chartInterval < 0:
		return fmt.Errorf("--chart-interval must be positive, got %s", o.chartInterval)
	case o.chartInterval > 0:
		hr.Spec.Chart.Spec.Interval = &metav1.Duration{Duration: o.chartInterval}
	}
	return nil
}

// checkNames checks the names the API server would refuse, naming the flag.
func (o *createHelmReleaseOptions) checkNames() error {
	if o.releaseName != "" {
		errs := validation.IsDNS1123Subdomain(o.releaseName)
		if len(o.releaseName) > 53 {
			errs = append(errs, "Helm release names are at most 53 characters long")
		}
		if len(errs) > 0 {
			return fmt.Errorf("invalid --release-name %q: %s", o.releaseName, strings.Join(errs, "; "))
		}
	}
	for _, f := range []struct{ flag, value string }{
		{"--target-namespace", o.targetNamespace}, {"--storage-namespace", o.storageNamespace},
	} {
		if f.value == "" {
			continue
		}
		if errs := validation.IsDNS1123Label(f.value); len(errs) > 0 {
			return fmt.Errorf("invalid %s %q: not a namespace name: %s", f.flag, f.value, strings.Join(errs, "; "))
		}
	}
	if o.serviceAccount != "" {
		if errs := validation.IsDNS1123Subdomain(o.serviceAccount); len(errs) > 0 {
			return fmt.Errorf("invalid --service-account %q: %s", o.serviceAccount, strings.Join(errs, "; "))
		}
	}
	return nil
}

// parseKindNameNamespace reads <kind>/<name>[.<namespace>], the kind one of
// allowed in any case, as Flux's --source and --chart-ref.
func parseKindNameNamespace(flag, s string, allowed []string) (kind, name, ns string, err error) {
	k, rest, ok := strings.Cut(s, "/")
	if !ok || k == "" || rest == "" {
		return "", "", "", fmt.Errorf("invalid %s %q: write it as <kind>/<name>[.<namespace>], where kind is one of: %s",
			flag, s, strings.Join(allowed, ", "))
	}
	for _, a := range allowed {
		if strings.EqualFold(a, k) {
			kind = a
		}
	}
	if kind == "" {
		return "", "", "", fmt.Errorf("kind %q in %s %q is not supported, must be one of: %s", k, flag, s, strings.Join(allowed, ", "))
	}
	name, ns, _ = strings.Cut(rest, ".")
	if err := checkObjectName(flag, name, kind); err != nil {
		return "", "", "", err
	}
	if ns != "" {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return "", "", "", fmt.Errorf("invalid namespace %q in %s %q: %s", ns, flag, s, strings.Join(errs, "; "))
		}
	}
	return kind, name, ns, nil
}

// parseCRDsPolicy reads --crds: Skip, Create or CreateReplace, in any case.
func parseCRDsPolicy(s string) (helmv2.CRDsPolicy, error) {
	names := make([]string, len(crdsPolicies))
	for i, p := range crdsPolicies {
		if strings.EqualFold(string(p), s) {
			return p, nil
		}
		names[i] = string(p)
	}
	return "", fmt.Errorf("invalid --crds %q: must be one of: %s", s, strings.Join(names, ", "))
}

// parseValuesFrom reads --values-from: <kind>/<name>, kind Secret or ConfigMap.
func parseValuesFrom(s string) (meta.ValuesReference, error) {
	k, name, ok := strings.Cut(s, "/")
	if !ok || k == "" || name == "" {
		return meta.ValuesReference{}, fmt.Errorf("invalid --values-from %q: write it as <kind>/<name>, where kind is one of: %s",
			s, strings.Join(valuesFromKinds, ", "))
	}
	for _, v := range valuesFromKinds {
		if strings.EqualFold(v, k) {
			if err := checkObjectName("--values-from", name, v); err != nil {
				return meta.ValuesReference{}, err
			}
			return meta.ValuesReference{Kind: v, Name: name}, nil
		}
	}
	return meta.ValuesReference{}, fmt.Errorf("kind %q in --values-from %q is not supported, must be one of: %s",
		k, s, strings.Join(valuesFromKinds, ", "))
}

// mergeValuesFiles reads the --values files, each a YAML map, and merges
// them in order, a later file's keys over an earlier's, maps merged key by
// key; nil when there are none.
func mergeValuesFiles(files []string) (*apiextensionsv1.JSON, error) {
	if len(files) == 0 {
		return nil, nil
	}
	merged := map[string]any{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("--values file %s does not exist", file)
		}
		if err != nil {
			return nil, fmt.Errorf("reading --values file %s: %w", file, err)
		}
		var values map[string]any
		if err := yaml.Unmarshal(data, &values); err != nil {
			return nil, fmt.Errorf("--values file %s is not a YAML map of values: %v", file, err)
		}
		mergeValues(merged, values)
	}
	raw, err := json.Marshal(merged)
	if err != nil {
		return nil, fmt.Errorf("encoding the values of --values: %w", err)
	}
	return &apiextensionsv1.JSON{Raw: raw}, nil
}

// mergeValues merges src into dst: a map over a map merges key by key,
// anything else replaces what dst had.
func mergeValues(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}
