package kinds

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// HelmRelease is the entry of helm.toolkit.fluxcd.io HelmRelease: `flux
// <verb> helmrelease` (or hr), `flux get helmreleases`, as Flux names it.
// Its source is where the chart comes from: spec.chart's sourceRef (a
// HelmRepository, GitRepository or Bucket) or the spec.chartRef object (an
// OCIRepository, HelmChart or ExternalArtifact), as Flux's `get hr
// --show-source` shows it. Its related objects add the HelmChart the
// controller generates from spec.chart.
func HelmRelease() Kind {
	return Kind{
		GroupVersionKind: helmv2.GroupVersion.WithKind(helmv2.HelmReleaseKind),
		Resource:         "helmreleases",
		Command: Command{Name: "helmrelease", Plural: "helmreleases", Aliases: []string{"hr"},
			Noun: "HelmRelease", Nouns: "HelmReleases"},
		New:          func() Object { return &helmv2.HelmRelease{} },
		NewList:      func() List { return &helmv2.HelmReleaseList{} },
		Items:        func(l List) []Object { return pointers(l.(*helmv2.HelmReleaseList).Items) },
		Revision:     func(o Object) string { return HelmReleaseRevision(o.(*helmv2.HelmRelease)) },
		RevisionVerb: "applied",
		SetSuspend:   func(o Object, s bool) { o.(*helmv2.HelmRelease).Spec.Suspend = s },
		ExtraActions: []Action{
			{Name: "force", Label: "Force", Annotations: []string{meta.ForceRequestAnnotation}, Requests: true,
				Help: "A one-off install or upgrade, even with nothing changed (flux reconcile helmrelease --force)."},
			{Name: "reset", Label: "Reset", Annotations: []string{meta.ResetRequestAnnotation}, Requests: true,
				Help: "Reset the failure counters so that remediation starts afresh (flux reconcile helmrelease --reset)."},
		},
		Wide: []Column{
			{"INTERVAL", func(o Object) string { return o.(*helmv2.HelmRelease).Spec.Interval.Duration.String() }},
			{"CHART", func(o Object) string { return helmReleaseChart(o.(*helmv2.HelmRelease)) }},
			{"RELEASE", func(o Object) string { return helmReleaseName(o.(*helmv2.HelmRelease)) }},
			{"SOURCE", func(o Object) string { return refString(HelmReleaseSource(o.(*helmv2.HelmRelease))) }},
		},
		Sections: func(o Object, age Age) []Section { return helmReleaseSections(o.(*helmv2.HelmRelease), age) },
		Summary: func(o Object) []Pair {
			hr := o.(*helmv2.HelmRelease)
			return []Pair{{"Chart", helmReleaseChart(hr)}, {"Release", helmReleaseName(hr)}}
		},
		Source: func(o Object) Ref { return HelmReleaseSource(o.(*helmv2.HelmRelease)) },
		// The kinds of spec.chart.spec.sourceRef, which Flux's --source takes.
		SourceKinds: []string{sourcev1.HelmRepositoryKind, sourcev1.GitRepositoryKind, sourcev1.BucketKind},
		Related:     func(o Object) []Ref { return helmReleaseRelated(o.(*helmv2.HelmRelease)) },
		Examples: map[string]string{"reconcile": `  # Trigger a HelmRelease apply outside of the reconciliation interval
  flux reconcile hr podinfo

  # Trigger a reconciliation of the HelmRelease's chart and its source first
  flux reconcile hr podinfo --with-source

  # Trigger a one-off install or upgrade, even when nothing changed
  flux reconcile hr podinfo --force

  # Reset the failure counters of a release that ran out of retries
  flux reconcile hr podinfo --reset`},
	}
}

// ChartRefKinds are the kinds spec.chartRef may name (the API's enum); the
// command line takes OCIRepository and HelmChart, as Flux's --chart-ref.
var ChartRefKinds = []string{sourcev1.OCIRepositoryKind, sourcev1.HelmChartKind}

// HelmReleaseRevision is what `flux get helmreleases` shows as REVISION, as
// Flux: the chart version of the newest release in status.history, or the
// last attempted revision before the first one.
func HelmReleaseRevision(hr *helmv2.HelmRelease) string {
	if len(hr.Status.History) > 0 {
		return hr.Status.History[0].ChartVersion
	}
	return hr.Status.LastAttemptedRevision
}

// HelmReleaseSource is where the chart of hr comes from: the object
// spec.chartRef names, or spec.chart's sourceRef, the namespace defaulted
// to the release's and the API version to source.toolkit.fluxcd.io/v1.
func HelmReleaseSource(hr *helmv2.HelmRelease) Ref {
	r := Ref{Namespace: hr.Namespace}
	switch {
	case hr.Spec.ChartRef != nil:
		c := hr.Spec.ChartRef
		r.APIVersion, r.Kind, r.Name = c.APIVersion, c.Kind, c.Name
		if c.Namespace != "" {
			r.Namespace = c.Namespace
		}
	case hr.Spec.Chart != nil:
		s := hr.Spec.Chart.Spec.SourceRef
		r.APIVersion, r.Kind, r.Name = s.APIVersion, s.Kind, s.Name
		if s.Namespace != "" {
			r.Namespace = s.Namespace
		}
	}
	if r.APIVersion == "" {
		r.APIVersion = sourcev1.GroupVersion.String()
	}
	return r
}

// HelmReleaseChart is the HelmChart hr's chart comes through: the one the
// controller generates from spec.chart (status.helmChart, or its name
// '<namespace>-<name>' in the source's namespace before the controller
// recorded it), or a HelmChart named by spec.chartRef. ok is false when the
// chart comes straight from another kind of chartRef (an OCIRepository).
func HelmReleaseChart(hr *helmv2.HelmRelease) (Ref, bool) {
	r := Ref{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.HelmChartKind}
	switch {
	case hr.Spec.ChartRef != nil:
		if hr.Spec.ChartRef.Kind != sourcev1.HelmChartKind {
			return Ref{}, false
		}
		src := HelmReleaseSource(hr)
		r.Namespace, r.Name = src.Namespace, src.Name
		return r, true
	case hr.Status.HelmChart != "":
		ns, name, ok := strings.Cut(hr.Status.HelmChart, "/")
		if ok && ns != "" && name != "" {
			r.Namespace, r.Name = ns, name
			return r, true
		}
	}
	if hr.Spec.Chart == nil {
		return Ref{}, false
	}
	r.Namespace, r.Name = HelmReleaseSource(hr).Namespace, hr.GetHelmChartName()
	return r, true
}

// helmReleaseRelated are the objects whose events belong with a
// HelmRelease's, as Flux's `events --for HelmRelease/x`: its chart source
// and the HelmChart it goes through.
func helmReleaseRelated(hr *helmv2.HelmRelease) []Ref {
	refs := []Ref{HelmReleaseSource(hr)}
	if chart, ok := HelmReleaseChart(hr); ok && chart != refs[0] {
		refs = append(refs, chart)
	}
	return refs
}

// refString is Kind/namespace/name, as Flux's SOURCE column.
func refString(r Ref) string {
	if r.Kind == "" {
		return ""
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// helmReleaseChart is the chart as a user names it: name@version of
// spec.chart, or the chartRef as Kind/name.
func helmReleaseChart(hr *helmv2.HelmRelease) string {
	switch {
	case hr.Spec.ChartRef != nil:
		return hr.Spec.ChartRef.Kind + "/" + hr.Spec.ChartRef.Name
	case hr.Spec.Chart != nil:
		v := hr.Spec.Chart.Spec.Version
		if v == "" {
			v = "*"
		}
		return hr.Spec.Chart.Spec.Chart + "@" + v
	}
	return ""
}

// helmReleaseName is namespace/name of the Helm release.
func helmReleaseName(hr *helmv2.HelmRelease) string {
	if hr.Name == "" {
		return ""
	}
	return hr.GetReleaseNamespace() + "/" + hr.GetReleaseName()
}

func helmReleaseSections(hr *helmv2.HelmRelease, age Age) []Section {
	s := hr.Spec
	var deps []string
	for _, dep := range s.DependsOn {
		if dep.Namespace != "" {
			deps = append(deps, dep.Namespace+"/"+dep.Name)
		} else {
			deps = append(deps, dep.Name)
		}
	}
	var valuesFrom []string
	for _, v := range s.ValuesFrom {
		valuesFrom = append(valuesFrom, v.Kind+"/"+v.Name)
	}
	kubeConfig := ""
	if s.KubeConfig != nil && s.KubeConfig.SecretRef != nil {
		kubeConfig = "Secret " + s.KubeConfig.SecretRef.Name
	}
	storage := hr.Status.StorageNamespace
	if storage == "" && hr.Name != "" {
		storage = hr.GetStorageNamespace()
	}
	return []Section{
		{Title: "Spec", Pairs: []Pair{
			{"Chart", helmReleaseChart(hr)},
			{"Source", refString(HelmReleaseSource(hr))},
			{"Release", helmReleaseName(hr)},
			{"Storage Namespace", storage},
			{"Interval", s.Interval.Duration.String()},
			{"Timeout", durationString(s.Timeout)},
			{"Suspend", strconv.FormatBool(s.Suspend)},
			{"Service Account", s.ServiceAccountName},
			{"KubeConfig", kubeConfig},
			{"Depends On", strings.Join(deps, ", ")},
			{"Values From", strings.Join(valuesFrom, ", ")},
			{"Install CRDs", helmReleaseCRDs(hr, true)},
			{"Upgrade CRDs", helmReleaseCRDs(hr, false)},
			{"Drift Detection", helmReleaseDrift(hr)},
		}},
		{Title: "Status", Pairs: []Pair{
			{"Observed Generation", fmt.Sprintf("%d (generation %d)", hr.Status.ObservedGeneration, hr.Generation)},
			{"Helm Chart", hr.Status.HelmChart},
			{"Last Attempted Revision", hr.Status.LastAttemptedRevision},
			{"Last Attempted Action", string(hr.Status.LastAttemptedReleaseAction)},
			{"Last Attempted Config Digest", hr.Status.LastAttemptedConfigDigest},
			{"Failures", fmt.Sprintf("%d (install %d, upgrade %d)", hr.Status.Failures, hr.Status.InstallFailures, hr.Status.UpgradeFailures)},
			{"Last Handled Reconcile", hr.Status.LastHandledReconcileAt},
			{"Last Handled Force", hr.Status.LastHandledForceAt},
			{"Last Handled Reset", hr.Status.LastHandledResetAt},
		}},
		helmReleaseHistory(hr, age),
		conditions(hr, age),
		helmReleaseInventory(hr.Status.Inventory),
	}
}

// helmReleaseCRDs is the CRD policy of the install (or upgrade) action.
func helmReleaseCRDs(hr *helmv2.HelmRelease, install bool) string {
	if install {
		if hr.Spec.Install != nil && hr.Spec.Install.CRDs != "" {
			return string(hr.Spec.Install.CRDs)
		}
		return "Create"
	}
	if hr.Spec.Upgrade != nil && hr.Spec.Upgrade.CRDs != "" {
		return string(hr.Spec.Upgrade.CRDs)
	}
	return "Skip"
}

func helmReleaseDrift(hr *helmv2.HelmRelease) string {
	if hr.Spec.DriftDetection == nil || hr.Spec.DriftDetection.Mode == "" {
		return "disabled"
	}
	return string(hr.Spec.DriftDetection.Mode)
}

// helmReleaseHistory is status.history, newest first.
func helmReleaseHistory(hr *helmv2.HelmRelease, age Age) Section {
	rows := make([][]string, 0, len(hr.Status.History))
	for _, h := range hr.Status.History {
		rows = append(rows, []string{strconv.Itoa(h.Version), h.Status, h.ChartName + "@" + h.ChartVersion,
			h.AppVersion, h.Action, age(h.LastDeployed.Time)})
	}
	return Section{Title: "History", Table: &Table{
		Header: []string{"Revision", "Status", "Chart", "App Version", "Action", "Deployed"}, Rows: rows}}
}

// helmReleaseInventory lists the objects of the release, sorted, in the
// entry format of a Kustomization's inventory.
func helmReleaseInventory(inv *helmv2.ResourceInventory) Section {
	if inv == nil || len(inv.Entries) == 0 {
		return Section{Title: "Inventory"}
	}
	lines := make([]string, 0, len(inv.Entries))
	for _, e := range inv.Entries {
		lines = append(lines, inventoryLine(e.ID))
	}
	sort.Strings(lines)
	return Section{Title: "Inventory", List: lines}
}
