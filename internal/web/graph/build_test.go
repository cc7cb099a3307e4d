package graph

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

// edgeStrings are g's edges as "from -type-> to", IDs shortened to
// Kind/namespace/name, with " cycle" when marked.
func edgeStrings(g *Graph) []string {
	short := func(id string) string {
		n := g.Node(id)
		return n.Kind + "/" + n.Namespace + "/" + n.Name
	}
	var out []string
	for _, e := range g.Edges {
		s := short(e.From) + " -" + string(e.Type) + "-> " + short(e.To)
		if e.Cycle {
			s += " cycle"
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func TestEdges(t *testing.T) {
	chartHR := hr("apps", "podinfo")
	chartHR.Spec.Chart = &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: "podinfo",
		SourceRef: helmv2.CrossNamespaceObjectReference{Kind: sourcev1.HelmRepositoryKind, Name: "charts", Namespace: "flux-system"}}}
	refHR := hr("apps", "redis")
	refHR.Spec.ChartRef = &helmv2.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: "redis"}
	crossNS := ks("apps", "app", "fleet")
	crossNS.Spec.SourceRef.Namespace = "flux-system"

	tests := []struct {
		name    string
		objects []kinds.Object
		want    []string
	}{
		{"kustomization sourceRef, namespace defaulted",
			objs(git("flux-system", "fleet"), ks("flux-system", "apps", "fleet")),
			[]string{"GitRepository/flux-system/fleet -source-> Kustomization/flux-system/apps"}},
		{"kustomization sourceRef in another namespace",
			objs(git("flux-system", "fleet"), crossNS),
			[]string{"GitRepository/flux-system/fleet -source-> Kustomization/apps/app"}},
		{"helmrelease chart.spec.sourceRef",
			objs(helmRepo("flux-system", "charts"), chartHR),
			[]string{"HelmRepository/flux-system/charts -source-> HelmRelease/apps/podinfo"}},
		{"helmrelease chartRef",
			objs(oci("apps", "redis"), refHR),
			[]string{"OCIRepository/apps/redis -source-> HelmRelease/apps/redis"}},
		{"kustomization dependsOn, same and other namespace",
			objs(git("a", "s"), ks("a", "x", "s", "y", "b/z"), ks("a", "y", "s"), ks("b", "z", "s")),
			[]string{
				"GitRepository/a/s -source-> Kustomization/a/x",
				"GitRepository/a/s -source-> Kustomization/a/y",
				"GitRepository/b/s -source-> Kustomization/b/z",
				"Kustomization/a/y -dependsOn-> Kustomization/a/x",
				"Kustomization/b/z -dependsOn-> Kustomization/a/x",
			}},
		{"helmrelease dependsOn",
			objs(hr("apps", "web", "db"), hr("apps", "db")),
			[]string{"HelmRelease/apps/db -dependsOn-> HelmRelease/apps/web"}},
		{"appliedBy labels: kustomizations, a helmrelease and a source",
			objs(git("flux-system", "s"),
				appliedBy(ks("flux-system", "infra", "s"), "flux-system", "root"),
				appliedBy(hr("apps", "web"), "flux-system", "infra"),
				appliedBy(helmRepo("apps", "charts"), "flux-system", "infra"),
				ks("flux-system", "root", "s")),
			[]string{
				"GitRepository/flux-system/s -source-> Kustomization/flux-system/infra",
				"GitRepository/flux-system/s -source-> Kustomization/flux-system/root",
				"Kustomization/flux-system/infra -appliedBy-> HelmRelease/apps/web",
				"Kustomization/flux-system/infra -appliedBy-> HelmRepository/apps/charts",
				"Kustomization/flux-system/root -appliedBy-> Kustomization/flux-system/infra",
			}},
		{"an object applied by itself has no edge",
			objs(git("flux-system", "s"), appliedBy(ks("flux-system", "root", "s"), "flux-system", "root")),
			[]string{"GitRepository/flux-system/s -source-> Kustomization/flux-system/root"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Build(tt.objects, Scope{})
			if err != nil {
				t.Fatal(err)
			}
			if got := edgeStrings(g); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("edges:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestStates(t *testing.T) {
	suspended := withReady(ks("a", "suspended", "s"), metav1.ConditionTrue, "Succeeded")
	suspended.Spec.Suspend = true
	stalled := withReady(ks("a", "stalled", "s"), metav1.ConditionFalse, "BuildFailed")
	stalled.Status.Conditions = append(stalled.Status.Conditions,
		metav1.Condition{Type: meta.StalledCondition, Status: metav1.ConditionTrue, Reason: "InvalidPath"})
	reconciling := withReady(ks("a", "reconciling", "s"), metav1.ConditionUnknown, "Progressing")
	reconciling.Status.Conditions = append(reconciling.Status.Conditions,
		metav1.Condition{Type: meta.ReconcilingCondition, Status: metav1.ConditionTrue, Reason: "Progressing"})
	g, err := Build(objs(git("a", "s"),
		withReady(ks("a", "ready", "s"), metav1.ConditionTrue, "ReconciliationSucceeded"),
		withReady(ks("a", "failed", "s"), metav1.ConditionFalse, "HealthCheckFailed"),
		suspended, stalled, reconciling, ks("a", "new", "s")), Scope{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ready": "Ready ReconciliationSucceeded", "failed": "Not ready HealthCheckFailed",
		"suspended": "Suspended Succeeded", "stalled": "Stalled InvalidPath",
		"reconciling": "Reconciling Progressing", "new": "Unknown ",
	}
	for name, w := range want {
		n := g.Node(ksID("a", name))
		if got := string(n.State) + " " + n.Reason; got != w {
			t.Errorf("%s: state %q, want %q", name, got, w)
		}
		if n.Href() != "/o/kustomize.toolkit.fluxcd.io/Kustomization/a/"+name {
			t.Errorf("%s: href %s", name, n.Href())
		}
	}
}

func TestDanglingReferences(t *testing.T) {
	g, err := Build(objs(ks("apps", "web", "gone", "db")), Scope{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{gitID("apps", "gone"), ksID("apps", "db")} {
		n := g.Node(id)
		if n == nil {
			t.Fatalf("dangling reference %s dropped; nodes: %v", id, g.Nodes)
		}
		if !n.Missing {
			t.Errorf("%s not marked missing", id)
		}
	}
	if g.Node(ksID("apps", "web")).Missing {
		t.Error("the object itself is marked missing")
	}
	want := []string{
		"GitRepository/apps/gone -source-> Kustomization/apps/web",
		"Kustomization/apps/db -dependsOn-> Kustomization/apps/web",
	}
	if got := edgeStrings(g); !reflect.DeepEqual(got, want) {
		t.Errorf("edges %q, want %q", got, want)
	}
	svg := string(g.SVG())
	if strings.Count(svg, `class="node missing"`) != 2 || strings.Count(svg, "> Missing</text>") != 2 {
		t.Errorf("the SVG does not draw two missing nodes with the word Missing:\n%s", svg)
	}
}

func TestCycleOfThree(t *testing.T) {
	// a -> b -> c -> a, plus d outside the cycle depending on a, and e
	// depending on itself.
	g, err := Build(objs(git("ns", "s"),
		ks("ns", "c", "s", "a"), ks("ns", "a", "s", "b"), ks("ns", "b", "s", "c"),
		ks("ns", "d", "s", "a"), ks("ns", "e", "s", "e")), Scope{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ns/a -> ns/b -> ns/c -> ns/a", "ns/e -> ns/e"}
	if !reflect.DeepEqual(g.Cycles, want) {
		t.Errorf("cycles %q, want %q", g.Cycles, want)
	}
	var cyc []string
	for _, e := range edgeStrings(g) {
		if strings.HasSuffix(e, " cycle") {
			cyc = append(cyc, e)
		}
	}
	wantEdges := []string{
		"Kustomization/ns/a -dependsOn-> Kustomization/ns/c cycle",
		"Kustomization/ns/b -dependsOn-> Kustomization/ns/a cycle",
		"Kustomization/ns/c -dependsOn-> Kustomization/ns/b cycle",
		"Kustomization/ns/e -dependsOn-> Kustomization/ns/e cycle",
	}
	if !reflect.DeepEqual(cyc, wantEdges) {
		t.Errorf("cycle edges %q, want %q", cyc, wantEdges)
	}
	svg := string(g.SVG())
	if strings.Count(svg, `class="edge dependsOn cycle"`) != 4 || !strings.Contains(svg, "ns/a -&gt; ns/b -&gt; ns/c -&gt; ns/a") {
		t.Errorf("the SVG does not mark and name the cycles:\n%s", svg)
	}
}

// TestCycleNameFollowsSpecOrder checks the walk the controller makes: from
// a, dependsOn entries in spec order, so a -> c (a dead end) is tried
// before a -> b -> a.
func TestCycleNameFollowsSpecOrder(t *testing.T) {
	g, err := Build(objs(ks("ns", "a", "s", "c", "b"), ks("ns", "b", "s", "a"), ks("ns", "c", "s")), Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ns/a -> ns/b -> ns/a"}; !reflect.DeepEqual(g.Cycles, want) {
		t.Errorf("cycles %q, want %q", g.Cycles, want)
	}
}

func TestScopeNamespace(t *testing.T) {
	in := objs(git("flux-system", "fleet"),
		ks("flux-system", "infra", "fleet"),
		appliedBy(ks("apps", "web", "fleet", "flux-system/infra"), "flux-system", "infra"),
		ks("apps", "api", "fleet", "web"),
		git("apps", "fleet"),
		ks("other", "x", "fleet"), git("other", "fleet"))
	g, err := Build(in, Scope{Namespace: "apps"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range g.Nodes {
		s := n.Namespace + "/" + n.Name + " " + n.Kind
		if n.Outside {
			s += " outside"
		}
		got = append(got, s)
	}
	want := []string{
		"apps/fleet GitRepository",
		"apps/api Kustomization",
		"apps/web Kustomization",
		"flux-system/infra Kustomization outside",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("nodes:\n got %q\nwant %q", got, want)
	}
	for _, e := range g.Edges {
		if g.Node(e.From) == nil || g.Node(e.To) == nil {
			t.Errorf("edge %s -> %s leaves the scope", e.From, e.To)
		}
	}
	if len(g.Edges) != 5 {
		t.Errorf("%d edges, want 5: %q", len(g.Edges), edgeStrings(g))
	}
}

func TestScopeConnected(t *testing.T) {
	in := objs(git("a", "s"), ks("a", "x", "s"), ks("a", "y", "s", "x"),
		git("b", "t"), ks("b", "z", "t"))
	g, err := Build(in, Scope{Around: ksID("a", "y")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range g.Nodes {
		got = append(got, n.Namespace+"/"+n.Name)
	}
	if want := []string{"a/s", "a/x", "a/y"}; !reflect.DeepEqual(got, want) {
		t.Errorf("nodes %q, want %q", got, want)
	}
	if _, err := Build(in, Scope{Around: ksID("a", "nope")}); err == nil {
		t.Error("a scope around a missing object builds")
	}
	if _, err := Build(in, Scope{Namespace: "a", Around: ksID("a", "y")}); err == nil {
		t.Error("a scope by namespace and around an object at once builds")
	}
}

func TestTooLarge(t *testing.T) {
	var in []kinds.Object
	for i := 0; i < 200; i++ {
		in = append(in, ks("big", fmt.Sprintf("k%03d", i), "s"), ks("small", fmt.Sprintf("k%03d", i), "s"))
	}
	// 400 Kustomizations and 2 missing sources.
	_, err := Build(in, Scope{})
	var tooLarge *TooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Nodes != 402 {
		t.Fatalf("Build of 402 nodes: %v, want a *TooLargeError of 402", err)
	}
	g, err := Build(in, Scope{Namespace: "small"})
	if err != nil {
		t.Fatalf("scoped to 201 nodes: %v", err)
	}
	if len(g.Nodes) != 201 {
		t.Errorf("%d nodes, want 201", len(g.Nodes))
	}
}

func TestBadInput(t *testing.T) {
	if _, err := Build(objs(ks("a", "x", "s"), ks("a", "x", "s")), Scope{}); err == nil ||
		!strings.Contains(err.Error(), "given twice") {
		t.Errorf("duplicate object: %v", err)
	}
	if _, err := Build(objs(&metav1.PartialObjectMetadata{}), Scope{}); err == nil {
		t.Error("an object of no catalogue kind builds")
	}
}
