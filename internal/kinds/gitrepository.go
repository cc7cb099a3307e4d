package kinds

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// GitRepository is the entry of source.toolkit.fluxcd.io GitRepository.
func GitRepository() Kind {
	return Kind{
		GroupVersionKind: sourcev1.GroupVersion.WithKind(sourcev1.GitRepositoryKind),
		Resource:         "gitrepositories",
		Command:          Command{Group: "source", Name: "git", Plural: "git", Noun: "GitRepository source", Nouns: "GitRepository sources"},
		New:              func() Object { return &sourcev1.GitRepository{} },
		NewList:          func() List { return &sourcev1.GitRepositoryList{} },
		Items:            func(l List) []Object { return pointers(l.(*sourcev1.GitRepositoryList).Items) },
		Revision:         func(o Object) string { return artifactRevision(o.(*sourcev1.GitRepository).Status.Artifact) },
		RevisionVerb:     "fetched",
		SetSuspend:       func(o Object, s bool) { o.(*sourcev1.GitRepository).Spec.Suspend = s },
		Wide: []Column{
			{"INTERVAL", func(o Object) string { return o.(*sourcev1.GitRepository).Spec.Interval.Duration.String() }},
			{"REF", func(o Object) string { return gitRef(o.(*sourcev1.GitRepository).Spec.Reference) }},
			{"URL", func(o Object) string { return o.(*sourcev1.GitRepository).Spec.URL }},
		},
		Sections: func(o Object, age Age) []Section { return gitRepositorySections(o.(*sourcev1.GitRepository), age) },
		Summary: func(o Object) []Pair {
			g := o.(*sourcev1.GitRepository)
			ref := "" // no spec.ref reads <none> here, where wide and describe say branch:master
			if g.Spec.Reference != nil {
				ref = gitRef(g.Spec.Reference)
			}
			return []Pair{{"URL", g.Spec.URL}, {"Ref", ref}}
		},
		SecretRef: func(o Object) string {
			if ref := o.(*sourcev1.GitRepository).Spec.SecretRef; ref != nil {
				return ref.Name
			}
			return ""
		},
		Examples: map[string]string{"reconcile": `  # Fetch the latest commit of the GitRepository podinfo
  flux reconcile source git podinfo`},
	}
}

func artifactRevision(a *meta.Artifact) string {
	if a == nil {
		return ""
	}
	return a.Revision
}

func gitRepositorySections(g *sourcev1.GitRepository, age Age) []Section {
	s := g.Spec
	secret := ""
	if s.SecretRef != nil {
		secret = s.SecretRef.Name
	}
	ignore := ""
	if s.Ignore != nil {
		ignore = strings.Join(strings.Split(strings.TrimSpace(*s.Ignore), "\n"), ", ")
	}
	verify := ""
	if s.Verification != nil {
		verify = string(s.Verification.Mode) + " (keys from Secret " + s.Verification.SecretRef.Name + ")"
	}
	return []Section{
		{Title: "Spec", Pairs: []Pair{
			{"URL", s.URL},
			{"Ref", gitRef(s.Reference)},
			{"Interval", s.Interval.Duration.String()},
			{"Timeout", durationString(s.Timeout)},
			{"Secret", secret},
			{"Provider", s.Provider},
			{"Suspend", strconv.FormatBool(s.Suspend)},
			{"Recurse Submodules", strconv.FormatBool(s.RecurseSubmodules)},
			{"Sparse Checkout", strings.Join(s.SparseCheckout, ", ")},
			{"Ignore", ignore},
			{"Verify", verify},
		}},
		{Title: "Status", Pairs: []Pair{
			{"Observed Generation", fmt.Sprintf("%d (generation %d)", g.Status.ObservedGeneration, g.Generation)},
			{"Last Handled Reconcile", g.Status.LastHandledReconcileAt},
		}},
		artifact(g.Status.Artifact, age),
		conditions(g, age),
	}
}

// gitRef renders a GitRepository reference the way Flux's flags spell it
// (branch:main, tag:v1.0.0).
func gitRef(r *sourcev1.GitRepositoryRef) string {
	if r == nil {
		return "branch:master"
	}
	switch {
	case r.Commit != "":
		return "commit:" + r.Commit
	case r.Name != "":
		return "name:" + r.Name
	case r.SemVer != "":
		return "semver:" + r.SemVer
	case r.Tag != "":
		return "tag:" + r.Tag
	case r.Branch != "":
		return "branch:" + r.Branch
	}
	return ""
}
