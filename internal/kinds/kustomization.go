package kinds

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/apply"
)

// Kustomization is the entry of kustomize.toolkit.fluxcd.io Kustomization.
func Kustomization() Kind {
	return Kind{
		GroupVersionKind: kustomizev1.GroupVersion.WithKind(kustomizev1.KustomizationKind),
		Resource:         "kustomizations",
		Command: Command{Name: "kustomization", Plural: "kustomizations", Aliases: []string{"ks"},
			Noun: "Kustomization", Nouns: "Kustomizations"},
		New:          func() Object { return &kustomizev1.Kustomization{} },
		NewList:      func() List { return &kustomizev1.KustomizationList{} },
		Items:        func(l List) []Object { return pointers(l.(*kustomizev1.KustomizationList).Items) },
		Revision:     func(o Object) string { return o.(*kustomizev1.Kustomization).Status.LastAppliedRevision },
		RevisionVerb: "applied",
		SetSuspend:   func(o Object, s bool) { o.(*kustomizev1.Kustomization).Spec.Suspend = s },
		LastReconciled: func(o Object) time.Time {
			if h := o.(*kustomizev1.Kustomization).Status.History; len(h) > 0 {
				return h[0].LastReconciled.Time
			}
			return time.Time{}
		},
		Wide: []Column{
			{"INTERVAL", func(o Object) string { return o.(*kustomizev1.Kustomization).Spec.Interval.Duration.String() }},
			{"SOURCE", func(o Object) string { return sourceRefString(o.(*kustomizev1.Kustomization)) }},
			{"PATH", func(o Object) string { return o.(*kustomizev1.Kustomization).Spec.Path }},
		},
		Sections: func(o Object, age Age) []Section {
			return kustomizationSections(o.(*kustomizev1.Kustomization), age)
		},
		Summary: func(o Object) []Pair {
			k := o.(*kustomizev1.Kustomization)
			return []Pair{{"Target", k.Spec.TargetNamespace}, {"Path", k.Spec.Path}}
		},
		Source: func(o Object) Ref { return kustomizationSource(o.(*kustomizev1.Kustomization)) },
		// As Flux's `create kustomization --source`; the API also takes ExternalArtifact.
		SourceKinds: []string{sourcev1.GitRepositoryKind, sourcev1.OCIRepositoryKind, sourcev1.BucketKind},
		Related:     func(o Object) []Ref { return []Ref{kustomizationSource(o.(*kustomizev1.Kustomization))} },
		Examples: map[string]string{"reconcile": `  # Apply the Kustomization podinfo outside of its interval
  flux reconcile kustomization podinfo

  # Fetch its source first, then apply
  flux reconcile kustomization podinfo --with-source`},
	}
}

// kustomizationSource is spec.sourceRef with its namespace and API version
// defaulted: the Kustomization's own namespace, source.toolkit.fluxcd.io/v1.
func kustomizationSource(k *kustomizev1.Kustomization) Ref {
	ref := k.Spec.SourceRef
	r := Ref{APIVersion: ref.APIVersion, Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name}
	if r.Namespace == "" {
		r.Namespace = k.Namespace
	}
	if r.APIVersion == "" {
		r.APIVersion = sourcev1.GroupVersion.String()
	}
	return r
}

// sourceRefString renders a Kustomization's sourceRef as
// Kind/[namespace/]name, the namespace only when it is another one.
func sourceRefString(k *kustomizev1.Kustomization) string {
	ref := k.Spec.SourceRef
	if ref.Namespace != "" && ref.Namespace != k.Namespace {
		return ref.Kind + "/" + ref.Namespace + "/" + ref.Name
	}
	return ref.Kind + "/" + ref.Name
}

func kustomizationSections(k *kustomizev1.Kustomization, age Age) []Section {
	s := k.Spec
	var deps []string
	for _, dep := range s.DependsOn {
		if dep.Namespace != "" {
			deps = append(deps, dep.Namespace+"/"+dep.Name)
		} else {
			deps = append(deps, dep.Name)
		}
	}
	var checks []string
	for _, h := range s.HealthChecks {
		checks = append(checks, h.Kind+"/"+h.Namespace+"/"+h.Name)
	}
	return []Section{
		{Title: "Spec", Pairs: []Pair{
			{"Source", sourceRefString(k)},
			{"Path", s.Path},
			{"Interval", s.Interval.Duration.String()},
			{"Retry Interval", durationString(s.RetryInterval)},
			{"Timeout", durationString(s.Timeout)},
			{"Prune", strconv.FormatBool(s.Prune)},
			{"Wait", strconv.FormatBool(s.Wait)},
			{"Force", strconv.FormatBool(s.Force)},
			{"Suspend", strconv.FormatBool(s.Suspend)},
			{"Target Namespace", s.TargetNamespace},
			{"Service Account", s.ServiceAccountName},
			{"Depends On", strings.Join(deps, ", ")},
			{"Health Checks", strings.Join(checks, ", ")},
			{"Decryption", decryptionString(s.Decryption)},
			{"Post Build", postBuildString(s.PostBuild)},
		}},
		{Title: "Status", Pairs: []Pair{
			{"Observed Generation", fmt.Sprintf("%d (generation %d)", k.Status.ObservedGeneration, k.Generation)},
			{"Last Applied Revision", k.Status.LastAppliedRevision},
			{"Last Attempted Revision", k.Status.LastAttemptedRevision},
			{"Last Handled Reconcile", k.Status.LastHandledReconcileAt},
		}},
		conditions(k, age),
		inventory(k.Status.Inventory),
	}
}

// inventory lists what the Kustomization applied, sorted.
func inventory(inv *kustomizev1.ResourceInventory) Section {
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

// inventoryLine turns '<namespace>_<name>_<group>_<kind>' into Kind/ns/name
// (Kind/name for cluster-scoped objects); an entry it cannot read is shown
// as it is.
func inventoryLine(id string) string {
	ref, err := apply.ParseID(id, "")
	if err != nil {
		return id
	}
	if ref.Namespace == "" {
		return ref.Kind + "/" + ref.Name
	}
	return ref.Kind + "/" + ref.Namespace + "/" + ref.Name
}

func decryptionString(dec *kustomizev1.Decryption) string {
	if dec == nil {
		return ""
	}
	if dec.SecretRef != nil {
		return dec.Provider + " (keys from Secret " + dec.SecretRef.Name + ")"
	}
	return dec.Provider
}

func postBuildString(pb *kustomizev1.PostBuild) string {
	if pb == nil {
		return ""
	}
	keys := make([]string, 0, len(pb.Substitute))
	for k := range pb.Substitute {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var from []string
	for _, s := range pb.SubstituteFrom {
		from = append(from, s.Kind+"/"+s.Name)
	}
	return fmt.Sprintf("substitute [%s], substituteFrom [%s]", strings.Join(keys, ", "), strings.Join(from, ", "))
}
