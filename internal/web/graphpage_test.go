package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web/graph"
)

func serverOver(objs ...kinds.Object) http.Handler {
	o := testOptions()
	o.Store = NewMemoryStore(objs...)
	return New(o)
}

func readyCond(status metav1.ConditionStatus, reason string) []metav1.Condition {
	return []metav1.Condition{cond(meta.ReadyCondition, status, reason, reason, time.Hour)}
}

// appliedByKS labels obj as applied by the Kustomization ns/name.
func appliedByKS(obj kinds.Object, ns, name string) {
	obj.SetLabels(map[string]string{kustomizev1.NameLabel: name, kustomizev1.NamespaceLabel: ns})
}

// fleetLike is the demo fleet's shape: a GitRepository and a root
// Kustomization flux-system that applies infra-controllers, infra-configs
// and apps, each waiting for the one before.
func fleetLike() []kinds.Object {
	repo := &sourcev1.GitRepository{ObjectMeta: objMeta("flux-system", "flux-system", 1)}
	repo.Status.Conditions = readyCond(metav1.ConditionTrue, "Succeeded")
	ks := func(name string, dep string, status metav1.ConditionStatus, reason string) *kustomizev1.Kustomization {
		k := kustomization("flux-system", name)
		if dep != "" {
			k.Spec.DependsOn = []meta.DependencyReference{{Name: dep}}
		}
		k.Status.Conditions = readyCond(status, reason)
		return k
	}
	root := ks("flux-system", "", metav1.ConditionTrue, "ReconciliationSucceeded")
	ctrl := ks("infra-controllers", "", metav1.ConditionTrue, "ReconciliationSucceeded")
	cfg := ks("infra-configs", "infra-controllers", metav1.ConditionTrue, "ReconciliationSucceeded")
	apps := ks("apps", "infra-configs", metav1.ConditionFalse, "HealthCheckFailed")
	out := []kinds.Object{repo, root, ctrl, cfg, apps}
	for _, o := range out {
		appliedByKS(o, "flux-system", "flux-system")
	}
	return out
}

// relationFixtures: the fleet, a cycle, a missing dependency and source,
// a dependency named <script>, a GitRepository with include and
// verification, and a HelmRelease with history.
func relationFixtures() []kinds.Object {
	objs := fleetLike()
	a := kustomization("loop", "a")
	a.Spec.DependsOn = []meta.DependencyReference{{Name: "b"}}
	b := kustomization("loop", "b")
	b.Spec.DependsOn = []meta.DependencyReference{{Name: "a"}, {Name: "gone"}, {Name: `<script>alert(1)</script>`}}
	b.Spec.SourceRef = kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "nowhere"}
	b.Status = kustomizev1.KustomizationStatus{
		LastAppliedRevision: "main@sha1:1111", LastAttemptedRevision: "main@sha1:2222", LastAppliedOriginRevision: "v1.2.3@sha1:1111",
		Conditions: readyCond(metav1.ConditionFalse, "DependencyNotReady"),
		History: []kustomizev1.Snapshot{{Digest: "sha256:dd", FirstReconciled: ago(5 * time.Hour), LastReconciled: ago(10 * time.Minute),
			LastReconciledDuration: metav1.Duration{Duration: 1500 * time.Millisecond}, LastReconciledStatus: "ReconciliationSucceeded",
			TotalReconciliations: 7, Metadata: map[string]string{"revision": "main@sha1:1111"}}},
	}
	c := kustomization("loop", "c")
	c.Spec.DependsOn = []meta.DependencyReference{{Name: "b"}}
	for _, k := range []*kustomizev1.Kustomization{a, c} {
		k.Spec.SourceRef = kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "repo"}
	}

	size := int64(3 << 20)
	repo := &sourcev1.GitRepository{
		ObjectMeta: objMeta("loop", "repo", 1),
		Spec: sourcev1.GitRepositorySpec{URL: "https://example.com/<b>repo</b>.git", Reference: &sourcev1.GitRepositoryRef{Tag: "v1.0.0"},
			Verification: &sourcev1.GitRepositoryVerification{Mode: sourcev1.ModeGitHEAD, SecretRef: meta.LocalObjectReference{Name: "pgp-keys"}},
			Include:      []sourcev1.GitRepositoryInclude{{GitRepositoryRef: meta.LocalObjectReference{Name: "common"}, FromPath: "deploy", ToPath: "vendor/common"}}},
		Status: sourcev1.GitRepositoryStatus{
			Conditions: []metav1.Condition{
				cond(meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason, "stored", time.Hour),
				cond(sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, "Succeeded", "verified signature of commit 'abc'", time.Hour),
			},
			Artifact: &meta.Artifact{Revision: "v1.0.0@sha1:abc", Digest: "sha256:ee", Size: &size, LastUpdateTime: ago(time.Hour)},
		},
	}
	hr := &helmv2.HelmRelease{ObjectMeta: objMeta("loop", "chart", 1),
		Spec: helmv2.HelmReleaseSpec{Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: "podinfo",
			SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "GitRepository", Name: "repo"}}},
			DependsOn: []meta.DependencyReference{{Name: "missing-release"}}},
		Status: helmv2.HelmReleaseStatus{Conditions: readyCond(metav1.ConditionTrue, "InstallSucceeded"),
			History: []helmv2.Snapshot{{Digest: "sha256:ff", Name: "chart", Namespace: "loop", Version: 2, Status: "deployed",
				ChartName: "podinfo", ChartVersion: "6.5.0", FirstDeployed: ago(3 * time.Hour), LastDeployed: ago(time.Hour)}}},
	}
	return append(objs, a, b, c, repo, hr)
}

var relationPages = map[string]string{
	"graph-fleet.html":             "/graph?namespace=flux-system",
	"graph-all.html":               "/graph",
	"graph-around-cycle.html":      "/graph?around=" + url.QueryEscape(graph.ID("kustomize.toolkit.fluxcd.io", "Kustomization", "loop", "b")),
	"graph-around-missing.html":    "/graph?around=" + url.QueryEscape(graph.ID("kustomize.toolkit.fluxcd.io", "Kustomization", "loop", "nope")),
	"graph-both-scopes.html":       "/graph?namespace=loop&around=x",
	"object-cycle-missing.html":    "/o/kustomize.toolkit.fluxcd.io/Kustomization/loop/b",
	"object-fleet-apps.html":       "/o/kustomize.toolkit.fluxcd.io/Kustomization/flux-system/apps",
	"object-gitrepository.html":    "/o/source.toolkit.fluxcd.io/GitRepository/loop/repo",
	"object-helmrelease-hist.html": "/o/helm.toolkit.fluxcd.io/HelmRelease/loop/chart",
}

func TestGoldenRelationPages(t *testing.T) {
	h := serverOver(relationFixtures()...)
	codes := map[string]int{"graph-around-missing.html": http.StatusNotFound, "graph-both-scopes.html": http.StatusBadRequest}
	for file, path := range relationPages {
		t.Run(file, func(t *testing.T) {
			rec := get(t, h, path)
			want := http.StatusOK
			if c, ok := codes[file]; ok {
				want = c
			}
			if rec.Code != want {
				t.Fatalf("GET %s: %d, want %d\n%s", path, rec.Code, want, rec.Body)
			}
			body := rec.Body.String()
			checkInline(t, "GET "+path, body)
			if strings.Contains(body, "<script>alert") {
				t.Errorf("GET %s renders a name as HTML", path)
			}
			golden(t, file, rec.Body.Bytes())
		})
	}
}

// TestGraphPageMarks checks what the goldens must show, whatever -update
// wrote: the drawing inline, the cycle named, the missing ones marked.
func TestGraphPageMarks(t *testing.T) {
	h := serverOver(relationFixtures()...)
	body := get(t, h, relationPages["graph-around-cycle.html"]).Body.String()
	for _, want := range []string{
		`<svg xmlns="http://www.w3.org/2000/svg" class="graph"`,
		`<code>loop/a -&gt; loop/b -&gt; loop/a</code>`,
		`class="edge dependsOn cycle"`,
		`class="node missing"`,
		`Kustomization <code>loop/gone</code>, named by <a href="/o/kustomize.toolkit.fluxcd.io/Kustomization/loop/b">`,
		`GitRepository <code>loop/nowhere</code>`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the graph around loop/b lacks %s", want)
		}
	}
	svg := body[strings.Index(body, "<svg"):strings.Index(body, "</svg>")]
	if strings.Contains(svg, "infra-configs") {
		t.Error("the graph around loop/b draws the fleet, which is not connected to it")
	}
	page := get(t, h, relationPages["object-cycle-missing.html"]).Body.String()
	for _, want := range []string{
		`dependency cycle: <code>loop/a -&gt; loop/b -&gt; loop/a</code>`,
		`Kustomization loop/gone: not found or not visible to you`,
		`differs from the last applied revision`,
		`<code>v1.2.3@sha1:1111</code>`,
		`GitRepository loop/nowhere: not found or not visible to you`,
		`<a href="/o/kustomize.toolkit.fluxcd.io/Kustomization/loop/c">Kustomization loop/c</a>`,
		`/graph?around=kustomize.toolkit.fluxcd.io%2FKustomization%2Floop%2Fb`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page of loop/b lacks %s", want)
		}
	}
	repo := get(t, h, relationPages["object-gitrepository.html"]).Body.String()
	for _, want := range []string{"verified", "vendor/common", `<a href="/o/helm.toolkit.fluxcd.io/HelmRelease/loop/chart">HelmRelease loop/chart</a>`, "3145728 bytes (3.0 MiB)"} {
		if !strings.Contains(repo, want) {
			t.Errorf("the GitRepository page lacks %s", want)
		}
	}
}

// TestGraphTooLarge: past graph.MaxNodes the page asks for a scope, in
// words, and draws nothing; a scope brings the drawing back.
func TestGraphTooLarge(t *testing.T) {
	var objs []kinds.Object
	for i := 0; i < graph.MaxNodes+1; i++ {
		objs = append(objs, kustomization(fmt.Sprintf("ns%d", i%2), fmt.Sprintf("k%03d", i)))
	}
	h := serverOver(objs...) // each names GitRepository flux-system/flux-system: 302 nodes
	rec := get(t, h, "/graph")
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("GET /graph of %d objects: %d, want 422", len(objs), rec.Code)
	}
	body := rec.Body.String()
	if !strings.Contains(body, "This graph has 302 objects, more than the 300 that can be drawn readably.") || strings.Contains(body, "<svg") {
		t.Errorf("the too-large answer does not ask for a scope:\n%s", body)
	}
	golden(t, "graph-too-large.html", rec.Body.Bytes())
	rec = get(t, h, "/graph.json")
	var e struct {
		Error           string
		Nodes, MaxNodes int
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != http.StatusUnprocessableEntity || e.Nodes != 302 || e.MaxNodes != graph.MaxNodes {
		t.Errorf("GET /graph.json too large: %d %+v %v", rec.Code, e, err)
	}
	if rec := get(t, h, "/graph?namespace=ns1"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<svg") {
		t.Errorf("GET /graph?namespace=ns1: %d, want a drawing", rec.Code)
	}
}

func TestGraphJSON(t *testing.T) {
	h := serverOver(fleetLike()...)
	rec := get(t, h, "/graph.json?namespace=flux-system")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /graph.json: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var g struct {
		Nodes []struct{ ID, State string }
		Edges []struct{ From, To, Type string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != 5 || len(g.Edges) != 10 {
		t.Errorf("fleet JSON: %d nodes, %d edges, want 5 and 10", len(g.Nodes), len(g.Edges))
	}
	if rec := get(t, h, "/graph.json?around=nope"); rec.Code != http.StatusNotFound {
		t.Errorf("GET /graph.json around a missing object: %d, want 404", rec.Code)
	}
}
