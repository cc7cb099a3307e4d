package kinds

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// ImageRepository is the entry of image.toolkit.fluxcd.io/v1
// ImageRepository: `flux <verb> image repository`, `flux get images
// repository`, as Flux names it. Its revision is the checksum of the last
// scan's tags; Flux's table shows the scan's time in its place.
func ImageRepository() Kind {
	return Kind{
		GroupVersionKind: imagev1.GroupVersion.WithKind(imagev1.ImageRepositoryKind),
		Resource:         "imagerepositories",
		Command: Command{Group: "image", Name: "repository", Plural: "repository",
			Noun: "ImageRepository", Nouns: "ImageRepositories"},
		New:          func() Object { return &imagev1.ImageRepository{} },
		NewList:      func() List { return &imagev1.ImageRepositoryList{} },
		Items:        func(l List) []Object { return pointers(l.(*imagev1.ImageRepositoryList).Items) },
		Revision:     func(o Object) string { return scanRevision(o.(*imagev1.ImageRepository)) },
		RevisionVerb: "scanned",
		Outcome: func(o Object) string {
			if r := o.(*imagev1.ImageRepository).Status.LastScanResult; r != nil {
				return fmt.Sprintf("scan fetched %d tags", r.TagCount)
			}
			return ""
		},
		RevisionColumn: &Column{"LAST SCAN", func(o Object) string {
			if r := o.(*imagev1.ImageRepository).Status.LastScanResult; r != nil {
				return rfc3339(&r.ScanTime)
			}
			return ""
		}},
		SetSuspend: func(o Object, s bool) { o.(*imagev1.ImageRepository).Spec.Suspend = s },
		Wide: []Column{
			{"INTERVAL", func(o Object) string { return o.(*imagev1.ImageRepository).Spec.Interval.Duration.String() }},
			{"IMAGE", func(o Object) string { return o.(*imagev1.ImageRepository).Spec.Image }},
			{"TAGS", func(o Object) string { return tagCount(o.(*imagev1.ImageRepository)) }},
		},
		Sections: func(o Object, age Age) []Section { return imageRepositorySections(o.(*imagev1.ImageRepository), age) },
		Summary: func(o Object) []Pair {
			r := o.(*imagev1.ImageRepository)
			return []Pair{{"Image", r.Spec.Image}, {"Tags", tagCount(r)}}
		},
		SecretRef: func(o Object) string { return localName(o.(*imagev1.ImageRepository).Spec.SecretRef) },
		Examples: map[string]string{"reconcile": `  # Scan the registry of the ImageRepository podinfo for new tags now
  flux reconcile image repository podinfo`},
	}
}

// ImagePolicy is the entry of image.toolkit.fluxcd.io/v1 ImagePolicy:
// `flux <verb> image policy`, `flux get images policy`. Its revision is
// the image it picked, which Flux's table shows as LATEST IMAGE.
func ImagePolicy() Kind {
	return Kind{
		GroupVersionKind: imagev1.GroupVersion.WithKind(imagev1.ImagePolicyKind),
		Resource:         "imagepolicies",
		Command: Command{Group: "image", Name: "policy", Plural: "policy",
			Noun: "ImagePolicy", Nouns: "ImagePolicies"},
		New:          func() Object { return &imagev1.ImagePolicy{} },
		NewList:      func() List { return &imagev1.ImagePolicyList{} },
		Items:        func(l List) []Object { return pointers(l.(*imagev1.ImagePolicyList).Items) },
		Revision:     func(o Object) string { return imageRefString(o.(*imagev1.ImagePolicy).Status.LatestRef) },
		RevisionVerb: "selected",
		Outcome: func(o Object) string {
			if ref := imageRefString(o.(*imagev1.ImagePolicy).Status.LatestRef); ref != "" {
				return "selected image " + ref
			}
			return ""
		},
		RevisionColumn: &Column{"LATEST IMAGE", func(o Object) string {
			if ref := o.(*imagev1.ImagePolicy).Status.LatestRef; ref != nil {
				return ref.Name + ":" + ref.Tag
			}
			return ""
		}},
		SetSuspend: func(o Object, s bool) { o.(*imagev1.ImagePolicy).Spec.Suspend = s },
		Wide: []Column{
			{"IMAGE REPOSITORY", func(o Object) string { return imageRepositoryRef(o.(*imagev1.ImagePolicy)) }},
			{"POLICY", func(o Object) string { return policyString(o.(*imagev1.ImagePolicy).Spec.Policy) }},
		},
		// Its ImageRepository: `reconcile image policy --with-source` scans
		// first, `events --for ImagePolicy/x` shows the scans' events too.
		Source:      func(o Object) Ref { return policyRepository(o.(*imagev1.ImagePolicy)) },
		SourceKinds: []string{imagev1.ImageRepositoryKind},
		Related:     func(o Object) []Ref { return []Ref{policyRepository(o.(*imagev1.ImagePolicy))} },
		Sections:    func(o Object, age Age) []Section { return imagePolicySections(o.(*imagev1.ImagePolicy), age) },
		Summary: func(o Object) []Pair {
			p := o.(*imagev1.ImagePolicy)
			return []Pair{{"Image Repository", imageRepositoryRef(p)}, {"Policy", policyString(p.Spec.Policy)}}
		},
		Examples: map[string]string{"reconcile": `  # Pick the latest image of the ImagePolicy podinfo again now
  flux reconcile image policy podinfo`},
	}
}

// ImageUpdateAutomation is the entry of image.toolkit.fluxcd.io/v1
// ImageUpdateAutomation: `flux <verb> image update`, `flux get images
// update`. Its revision is the last commit it pushed; Flux's table shows
// the time of its last run.
func ImageUpdateAutomation() Kind {
	return Kind{
		GroupVersionKind: imagev1.GroupVersion.WithKind(imagev1.ImageUpdateAutomationKind),
		Resource:         "imageupdateautomations",
		Command: Command{Group: "image", Name: "update", Plural: "update",
			Noun: "ImageUpdateAutomation", Nouns: "ImageUpdateAutomations"},
		New:          func() Object { return &imagev1.ImageUpdateAutomation{} },
		NewList:      func() List { return &imagev1.ImageUpdateAutomationList{} },
		Items:        func(l List) []Object { return pointers(l.(*imagev1.ImageUpdateAutomationList).Items) },
		Revision:     func(o Object) string { return o.(*imagev1.ImageUpdateAutomation).Status.LastPushCommit },
		RevisionVerb: "pushed",
		Outcome: func(o Object) string {
			a := o.(*imagev1.ImageUpdateAutomation)
			if a.Status.LastPushCommit != "" {
				return "last pushed commit " + a.Status.LastPushCommit
			}
			return "no commit pushed yet"
		},
		RevisionColumn: &Column{"LAST RUN", func(o Object) string {
			return rfc3339(o.(*imagev1.ImageUpdateAutomation).Status.LastAutomationRunTime)
		}},
		SetSuspend: func(o Object, s bool) { o.(*imagev1.ImageUpdateAutomation).Spec.Suspend = s },
		Wide: []Column{
			{"SOURCE", func(o Object) string { return automationSource(o.(*imagev1.ImageUpdateAutomation)) }},
			{"LAST PUSH COMMIT", func(o Object) string { return o.(*imagev1.ImageUpdateAutomation).Status.LastPushCommit }},
		},
		// Its GitRepository: `reconcile image update --with-source` fetches
		// first, `events --for ImageUpdateAutomation/x` shows its events too.
		Source:      func(o Object) Ref { return automationRepository(o.(*imagev1.ImageUpdateAutomation)) },
		SourceKinds: []string{sourcev1.GitRepositoryKind},
		Related:     func(o Object) []Ref { return []Ref{automationRepository(o.(*imagev1.ImageUpdateAutomation))} },
		Sections: func(o Object, age Age) []Section {
			return imageUpdateSections(o.(*imagev1.ImageUpdateAutomation), age)
		},
		Summary: func(o Object) []Pair {
			a := o.(*imagev1.ImageUpdateAutomation)
			return []Pair{{"Source", automationSource(a)}, {"Last Push Commit", a.Status.LastPushCommit}}
		},
		Examples: map[string]string{"reconcile": `  # Run the ImageUpdateAutomation flux-system now and print the commit it last pushed
  flux reconcile image update flux-system`},
	}
}

// rfc3339 writes an optional time as Flux's image tables do, "" when unset.
func rfc3339(t *metav1.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func scanRevision(r *imagev1.ImageRepository) string {
	if s := r.Status.LastScanResult; s != nil {
		return s.Revision
	}
	return ""
}

func tagCount(r *imagev1.ImageRepository) string {
	if s := r.Status.LastScanResult; s != nil {
		return strconv.Itoa(s.TagCount)
	}
	return ""
}

// imageRefString is name:tag, with @digest when reflected; "" for none.
func imageRefString(ref *imagev1.ImageRef) string {
	if ref == nil {
		return ""
	}
	return ref.String()
}

// imageRepositoryRef is the policy's ImageRepository, namespace/name when
// it is in another namespace.
func imageRepositoryRef(p *imagev1.ImagePolicy) string {
	ref := p.Spec.ImageRepositoryRef
	if ref.Namespace != "" && ref.Namespace != p.Namespace {
		return ref.Namespace + "/" + ref.Name
	}
	return ref.Name
}

// policyString writes the policy as `flux create image policy` selects it:
// semver:<range>, alphabetical:<order>, numerical:<order>.
func policyString(c imagev1.ImagePolicyChoice) string {
	order := func(o string) string {
		if o == "" {
			return imagev1.OrderAsc
		}
		return o
	}
	switch {
	case c.SemVer != nil:
		return "semver:" + c.SemVer.Range
	case c.Alphabetical != nil:
		return "alphabetical:" + order(c.Alphabetical.Order)
	case c.Numerical != nil:
		return "numerical:" + order(c.Numerical.Order)
	}
	return ""
}

// policyRepository is the ImageRepository the policy reads.
func policyRepository(p *imagev1.ImagePolicy) Ref {
	ref := p.Spec.ImageRepositoryRef
	r := Ref{APIVersion: imagev1.GroupVersion.String(), Kind: imagev1.ImageRepositoryKind, Namespace: ref.Namespace, Name: ref.Name}
	if r.Namespace == "" {
		r.Namespace = p.Namespace
	}
	return r
}

// automationRepository is the GitRepository the automation pushes to.
func automationRepository(a *imagev1.ImageUpdateAutomation) Ref {
	s := a.Spec.SourceRef
	r := Ref{APIVersion: s.APIVersion, Kind: s.Kind, Namespace: s.Namespace, Name: s.Name}
	if r.Kind == "" {
		r.Kind = sourcev1.GitRepositoryKind
	}
	if r.APIVersion == "" {
		r.APIVersion = sourcev1.GroupVersion.String()
	}
	if r.Namespace == "" {
		r.Namespace = a.Namespace
	}
	return r
}

// automationSource is the GitRepository the automation pushes to, with its
// namespace when it is another.
func automationSource(a *imagev1.ImageUpdateAutomation) string {
	s := a.Spec.SourceRef
	kind := s.Kind
	if kind == "" {
		kind = "GitRepository"
	}
	if s.Namespace != "" && s.Namespace != a.Namespace {
		return kind + "/" + s.Namespace + "/" + s.Name
	}
	return kind + "/" + s.Name
}

func observed(gen, observed int64) string {
	return fmt.Sprintf("%d (generation %d)", observed, gen)
}

func imageRepositorySections(r *imagev1.ImageRepository, age Age) []Section {
	s := r.Spec
	scan := []Pair{{"Revision", ""}, {"Tag Count", ""}, {"Scan Time", ""}, {"Latest Tags", ""}}
	if res := r.Status.LastScanResult; res != nil {
		scan = []Pair{
			{"Revision", res.Revision},
			{"Tag Count", strconv.Itoa(res.TagCount)},
			{"Scan Time", age(res.ScanTime.Time) + " ago"},
			{"Latest Tags", strings.Join(res.LatestTags, ", ")},
		}
	}
	return []Section{
		{Title: "Spec", Pairs: []Pair{
			{"Image", s.Image},
			{"Interval", s.Interval.Duration.String()},
			{"Timeout", durationString(s.Timeout)},
			{"Provider", s.Provider},
			{"Secret", localName(s.SecretRef)},
			{"Cert Secret", localName(s.CertSecretRef)},
			{"Proxy Secret", localName(s.ProxySecretRef)},
			{"Service Account", s.ServiceAccountName},
			{"Exclusion List", strings.Join(s.ExclusionList, ", ")},
			{"Insecure", strconv.FormatBool(s.Insecure)},
			{"Suspend", strconv.FormatBool(s.Suspend)},
		}},
		{Title: "Status", Pairs: []Pair{
			{"Observed Generation", observed(r.Generation, r.Status.ObservedGeneration)},
			{"Canonical Image Name", r.Status.CanonicalImageName},
			{"Observed Exclusion List", strings.Join(r.Status.ObservedExclusionList, ", ")},
			{"Last Handled Reconcile", r.Status.LastHandledReconcileAt},
		}},
		{Title: "Last Scan", Pairs: scan},
		conditions(r, age),
	}
}

func imagePolicySections(p *imagev1.ImagePolicy, age Age) []Section {
	s := p.Spec
	pattern, extract := "", ""
	if f := s.FilterTags; f != nil {
		pattern, extract = f.Pattern, f.Extract
	}
	sections := []Section{
		{Title: "Spec", Pairs: []Pair{
			{"Image Repository", imageRepositoryRef(p)},
			{"Policy", policyString(s.Policy)},
			{"Filter Pattern", pattern},
			{"Filter Extract", extract},
			{"Digest Reflection", string(p.GetDigestReflectionPolicy())},
			{"Interval", durationString(s.Interval)},
			{"Suspend", strconv.FormatBool(s.Suspend)},
		}},
		{Title: "Status", Pairs: []Pair{
			{"Observed Generation", observed(p.Generation, p.Status.ObservedGeneration)},
			{"Latest Ref", imageRefString(p.Status.LatestRef)},
			{"Observed Previous Ref", imageRefString(p.Status.ObservedPreviousRef)},
			{"Last Handled Reconcile", p.Status.LastHandledReconcileAt},
		}},
	}
	return append(append(sections, imagePolicySelection(p)...), conditions(p, age))
}

func imageUpdateSections(a *imagev1.ImageUpdateAutomation, age Age) []Section {
	s := a.Spec
	var checkout, push, author, signing, template, path, strategy string
	if g := s.GitSpec; g != nil {
		if g.Checkout != nil {
			checkout = gitCheckoutRef(g.Checkout.Reference)
		}
		if g.Push != nil {
			push = g.Push.Branch
			if g.Push.Refspec != "" {
				push = strings.TrimSpace(push + " refspec " + g.Push.Refspec)
			}
		}
		author = g.Commit.Author.Name + " <" + g.Commit.Author.Email + ">"
		if k := g.Commit.SigningKey; k != nil {
			typ := string(k.Type)
			if typ == "" {
				typ = string(imagev1.SigningKeyTypeGPG)
			}
			signing = k.SecretRef.Name + " (" + typ + ")"
		}
		template = g.Commit.MessageTemplate
	}
	if u := s.Update; u != nil {
		path, strategy = u.Path, string(u.Strategy)
	}
	selector := ""
	if s.PolicySelector != nil {
		selector = metav1.FormatLabelSelector(s.PolicySelector)
	}
	policies := make([]string, 0, len(a.Status.ObservedPolicies))
	for name, ref := range a.Status.ObservedPolicies {
		policies = append(policies, name+"="+ref.String())
	}
	sort.Strings(policies)
	return []Section{
		{Title: "Spec", Pairs: []Pair{
			{"Source", automationSource(a)},
			{"Checkout", checkout},
			{"Push", push},
			{"Author", author},
			{"Signing Key", signing},
			{"Message Template", template},
			{"Update Strategy", strategy},
			{"Update Path", path},
			{"Policy Selector", selector},
			{"Interval", s.Interval.Duration.String()},
			{"Suspend", strconv.FormatBool(s.Suspend)},
		}},
		{Title: "Status", Pairs: []Pair{
			{"Observed Generation", observed(a.Generation, a.Status.ObservedGeneration)},
			{"Last Run", timeAgo(a.Status.LastAutomationRunTime, age)},
			{"Last Push Commit", a.Status.LastPushCommit},
			{"Last Push", timeAgo(a.Status.LastPushTime, age)},
			{"Observed Source Revision", a.Status.ObservedSourceRevision},
			{"Observed Policies", strings.Join(policies, ", ")},
			{"Last Handled Reconcile", a.Status.LastHandledReconcileAt},
		}},
		conditions(a, age),
	}
}

// gitCheckoutRef writes a checkout reference as the GitRepository's ref
// reads: the most specific of commit, name, semver, tag, branch.
func gitCheckoutRef(r imagev1.GitRepositoryRef) string {
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

func timeAgo(t *metav1.Time, age Age) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return age(t.Time) + " ago"
}
