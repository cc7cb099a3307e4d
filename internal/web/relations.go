package web

import (
	"context"
	"net/url"
	"strconv"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web/graph"
)

// The object page's relations: the source an object reads and what it
// applied from it, its dependsOn chain, and for a GitRepository its
// artifact, verification, includes and consumers. Secrets appear by name
// only: nothing here reads one.

// sourceData is the Source section.
type sourceData struct {
	// Ref is the sourceRef in words, Link its object page.
	Ref, Link string
	// Found is false when the source is not there or not visible.
	Found    bool
	Badge    badge
	Revision string
	// Revisions is set for a kind with applied and attempted revisions
	// (a Kustomization); Differ when they differ.
	Revisions                  bool
	Applied, Attempted, Origin string
	Differ                     bool
	History                    []historyRow
	HistoryNote                string
	HasHistory                 bool
}

// historyRow is one entry of status.history.
type historyRow struct {
	Digest, Revision, Duration, Status, Count string
	First, Last                               timeCell
}

// timeCell is a time as the "since" partial writes it.
type timeCell struct{ Age, When string }

func newTimeCell(now, t time.Time) timeCell {
	if t.IsZero() {
		return timeCell{}
	}
	return timeCell{Age: age(now, t), When: t.UTC().Format(time.RFC3339)}
}

// sourceSection reads the source of obj (the catalogue's Kind.Source)
// through the store; nil for a kind without one.
func (s *server) sourceSection(ctx context.Context, k kinds.Kind, obj kinds.Object, now time.Time) *sourceData {
	if k.Source == nil {
		return nil
	}
	ref := k.Source(obj)
	if ref.Kind == "" || ref.Name == "" {
		return nil
	}
	d := &sourceData{Ref: ref.Kind + " " + ref.Namespace + "/" + ref.Name}
	if sk, ok := kinds.ByGroupKind(ref.GroupKind()); ok {
		d.Link = objectPath(sk, ref.Namespace, ref.Name)
		src := sk.New()
		if err := s.store.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, src); err == nil {
			d.Found = true
			v := newView(ctx, s.store.Get, sk, src, now)
			d.Badge, d.Revision = v.Badge, v.Revision
		}
	}
	switch o := obj.(type) {
	case *kustomizev1.Kustomization:
		st := o.Status
		d.Revisions = true
		d.Applied, d.Attempted, d.Origin = st.LastAppliedRevision, st.LastAttemptedRevision, st.LastAppliedOriginRevision
		d.Differ = st.LastAttemptedRevision != "" && st.LastAppliedRevision != st.LastAttemptedRevision
		d.HasHistory = true
		for _, h := range st.History {
			d.History = append(d.History, historyRow{
				Digest: h.Digest, Revision: h.Metadata["revision"],
				First: newTimeCell(now, h.FirstReconciled.Time), Last: newTimeCell(now, h.LastReconciled.Time),
				Duration: h.LastReconciledDuration.Duration.String(), Status: h.LastReconciledStatus,
				Count: strconv.FormatInt(h.TotalReconciliations, 10),
			})
		}
	case *helmv2.HelmRelease:
		d.HasHistory = true
		d.HistoryNote = "For a HelmRelease each entry is a Helm release: the revision is its chart and version, " +
			"the times are when it was first and last deployed, and the count is the release's version."
		for _, h := range o.Status.History {
			d.History = append(d.History, historyRow{
				Digest: h.Digest, Revision: h.ChartName + "@" + h.ChartVersion,
				First: newTimeCell(now, h.FirstDeployed.Time), Last: newTimeCell(now, h.LastDeployed.Time),
				Status: h.Status, Count: "v" + strconv.Itoa(h.Version),
			})
		}
	}
	return d
}

// chainData is the dependsOn section.
type chainData struct {
	Upstream, Downstream []chainRow
	Cycles               []string
	// Problem is why the chain cannot be shown.
	Problem string
}

type chainRow struct {
	Label, Href string
	Badge       badge
	Depth       int
	Via         string
}

// graphBadges are the graph's states as the pages' badges.
var graphBadges = map[graph.State]badge{
	graph.StateReady:       badges[stateReady],
	graph.StateNotReady:    badges[stateNotReady],
	graph.StateReconciling: badges[stateReconciling],
	graph.StateStalled:     badges[stateStalled],
	graph.StateSuspended:   badges[stateSuspended],
	graph.StateUnknown:     badges[stateUnknown],
}

var missingBadge = badge{Icon: "∅", Word: "Missing", Class: "fail"}

// hasDependsOn tells whether obj's kind has spec.dependsOn.
func hasDependsOn(obj kinds.Object) bool {
	switch obj.(type) {
	case *kustomizev1.Kustomization, *helmv2.HelmRelease:
		return true
	}
	return false
}

// dependsOnSection is obj's dependsOn chain, from the graph package over
// the objects of obj's kind (dependsOn names objects of the same kind).
func (s *server) dependsOnSection(ctx context.Context, k kinds.Kind, obj kinds.Object) *chainData {
	if !hasDependsOn(obj) {
		return nil
	}
	d := &chainData{}
	objs, err := s.store.List(ctx, k, "")
	if err != nil {
		s.log.Error("list", "kind", k.Kind, "error", err)
		d.Problem = "cannot list " + k.Kind + " objects: " + err.Error()
		return d
	}
	c, err := graph.DependsOn(objs, graph.ID(k.Group, k.Kind, obj.GetNamespace(), obj.GetName()))
	if err != nil {
		s.log.Error("dependsOn chain", "kind", k.Kind, "error", err)
		d.Problem = "cannot follow the dependencies: " + err.Error()
		return d
	}
	rows := func(links []graph.Link) []chainRow {
		var out []chainRow
		for _, l := range links {
			r := chainRow{Label: l.Node.Kind + " " + l.Node.Namespace + "/" + l.Node.Name, Href: l.Node.Href(),
				Badge: graphBadges[l.Node.State], Depth: l.Depth}
			if l.Node.Missing {
				r.Href, r.Badge = "", missingBadge
			}
			if l.Depth > 1 {
				r.Via = l.Via.Namespace + "/" + l.Via.Name
			}
			out = append(out, r)
		}
		return out
	}
	d.Upstream, d.Downstream, d.Cycles = rows(c.Upstream), rows(c.Downstream), c.Cycles
	return d
}

// gitRepoData is a GitRepository's own section.
type gitRepoData struct {
	URL, Ref string
	Artifact *artifactData
	// Verified is the SourceVerified condition, nil when there is none;
	// VerifyNote says why not.
	Verified   *conditionRow
	VerifyNote string
	Include    []includeRow
}

type artifactData struct {
	Revision, Digest, Size string
	Time                   timeCell
}

type includeRow struct{ Name, Href, FromPath, ToPath string }

func gitRepoSection(k kinds.Kind, obj kinds.Object, now time.Time) *gitRepoData {
	g, ok := obj.(*sourcev1.GitRepository)
	if !ok {
		return nil
	}
	d := &gitRepoData{}
	for _, p := range k.Summary(obj) {
		switch p.Key {
		case "URL":
			d.URL = p.Value
		case "Ref":
			d.Ref = p.Value
		}
	}
	if a := g.Status.Artifact; a != nil {
		d.Artifact = &artifactData{Revision: a.Revision, Digest: a.Digest, Time: newTimeCell(now, a.LastUpdateTime.Time)}
		if a.Size != nil {
			d.Artifact.Size = humanBytes(*a.Size)
		}
	}
	if c := apimeta.FindStatusCondition(g.Status.Conditions, sourcev1.SourceVerifiedCondition); c != nil {
		d.Verified = &conditionRow{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Message: c.Message}
		if !c.LastTransitionTime.IsZero() {
			d.Verified.Age, d.Verified.When = age(now, c.LastTransitionTime.Time), c.LastTransitionTime.UTC().Format(time.RFC3339)
		}
	} else if g.Spec.Verification == nil {
		d.VerifyNote = "not verified: spec.verify is not set"
	} else {
		d.VerifyNote = "not reported yet"
	}
	for _, in := range g.Spec.Include {
		to := in.ToPath
		if to == "" {
			to = in.GitRepositoryRef.Name
		}
		from := in.FromPath
		if from == "" {
			from = "."
		}
		d.Include = append(d.Include, includeRow{Name: in.GitRepositoryRef.Name, Href: objectPath(k, g.Namespace, in.GitRepositoryRef.Name),
			FromPath: from, ToPath: to})
	}
	return d
}

// humanBytes writes a size as "1234 bytes (1.2 KiB)": exact, then as the
// CLI shows it.
func humanBytes(n int64) string {
	s := strconv.FormatInt(n, 10) + " bytes"
	if n >= 1024 {
		s += " (" + kinds.Size(n) + ")"
	}
	return s
}

// consumer is an object that reads this one as its source.
type consumer struct {
	Label, Href string
	Badge       badge
}

// consumers are the objects of every catalogue kind with a source that
// name obj, of kind k, as theirs, in catalogue order; nil for a kind no
// other kind reads.
func (s *server) consumers(ctx context.Context, k kinds.Kind, obj kinds.Object, now time.Time) (out []consumer, failed []string) {
	for _, ck := range kinds.All() {
		if ck.Source == nil {
			continue
		}
		objs, err := s.store.List(ctx, ck, "")
		if err != nil {
			s.log.Error("list", "kind", ck.Kind, "error", err)
			failed = append(failed, ck.Kind+": cannot list: "+err.Error())
			continue
		}
		for _, o := range objs {
			r := ck.Source(o)
			if r.GroupKind() != k.GroupKind() || r.Namespace != obj.GetNamespace() || r.Name != obj.GetName() {
				continue
			}
			v := newView(ctx, s.store.Get, ck, o, now)
			out = append(out, consumer{Label: ck.Kind + " " + o.GetNamespace() + "/" + o.GetName(), Href: v.Link, Badge: v.Badge})
		}
	}
	return out, failed
}

// isSource tells whether some catalogue kind may read objects of kind k.
func isSource(k kinds.Kind) bool {
	for _, ck := range kinds.All() {
		for _, sk := range ck.SourceKinds {
			if sk == k.Kind {
				return true
			}
		}
	}
	return k.Kind == sourcev1.HelmRepositoryKind || k.Kind == sourcev1.HelmChartKind
}

// graphAround is the graph page drawn around obj.
func graphAround(k kinds.Kind, obj kinds.Object) string {
	return "/graph?around=" + url.QueryEscape(graph.ID(k.Group, k.Kind, obj.GetNamespace(), obj.GetName()))
}
