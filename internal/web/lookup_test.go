package web

import (
	"net/url"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftless/driftless/internal/web/auth"
)

// lookupObjects are what the lookup tests' cluster holds besides
// objectFixtures: a ConfigMap a Helm release made, one nobody manages,
// one whose labels name a Kustomization with an unsafe name, and a
// Deployment in flux-system.
func lookupObjects() []*unstructured.Unstructured {
	return append(objectFixtures(),
		uobj("v1", "ConfigMap", "apps", "podinfo-values", map[string]any{
			"helm.toolkit.fluxcd.io/name": "podinfo", "helm.toolkit.fluxcd.io/namespace": "apps",
			// A release a Kustomization applied: the release is the nearer owner.
			"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}, nil, nil),
		uobj("v1", "ConfigMap", "apps", "handmade", map[string]any{"app": "x"}, nil, nil),
		uobj("v1", "ConfigMap", "apps", "odd", map[string]any{
			"kustomize.toolkit.fluxcd.io/name": "<script>alert(2)</script>", "kustomize.toolkit.fluxcd.io/namespace": "apps"}, nil, nil),
		deployment("flux-system", "hidden-app", rolledOut, map[string]any{
			"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}),
	)
}

func lookupPath(kind, namespace, name string) string {
	return "/?" + url.Values{"who-kind": {kind}, "who-namespace": {namespace}, "who-name": {name}}.Encode()
}

// answerOf is the lookup's answer paragraph of an overview page.
func answerOf(t *testing.T, page string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, `<p class="lookup-answer" role="status">`)
	if !ok {
		t.Fatalf("the page has no lookup answer:\n%s", page)
	}
	answer, _, _ := strings.Cut(rest, "</p>")
	return answer
}

// TestLookupAnswers checks every answer of "who manages this?" as the
// overview renders it, the form showing the query back.
func TestLookupAnswers(t *testing.T) {
	opts := testOptions()
	opts.Objects = newFakeObjects(lookupObjects()...)
	h := New(opts)
	for _, tc := range []struct {
		name, path string
		want       []string
		not        []string
	}{
		{"found by kind", lookupPath("Deployment", "apps", "podinfo"),
			[]string{"Deployment apps/podinfo is managed by", `<a href="/o/kustomize.toolkit.fluxcd.io/Kustomization/flux-system/apps">Kustomization flux-system/apps</a>`, "✔</span> Ready"}, nil},
		{"found by resource.group", lookupPath("deployments.apps", "apps", "podinfo"),
			[]string{`href="/o/kustomize.toolkit.fluxcd.io/Kustomization/flux-system/apps"`}, nil},
		{"helm release first", lookupPath("ConfigMap", "apps", "podinfo-values"),
			[]string{`<a href="/o/helm.toolkit.fluxcd.io/HelmRelease/apps/podinfo">HelmRelease apps/podinfo</a>`}, []string{"Kustomization flux-system/apps"}},
		{"cluster-scoped, namespace ignored", lookupPath("Namespace", "", "apps"),
			[]string{"Namespace apps is not managed by Flux"}, nil},
		{"not managed", lookupPath("configmaps", "apps", "handmade"),
			[]string{"ConfigMap apps/handmade is not managed by Flux", "kustomize.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/name"}, nil},
		{"not found", lookupPath("Deployment", "apps", "nope"),
			[]string{"Deployment apps/nope: not found or not visible to you."}, nil},
		{"typo", lookupPath("Deploymnet", "apps", "podinfo"),
			[]string{"No kind Deploymnet: did you mean Deployment?"}, nil},
		{"unknown kind", lookupPath("Frobnicator", "apps", "x"),
			[]string{"No kind Frobnicator in this cluster"}, []string{"did you mean"}},
		{"no name", lookupPath("Deployment", "apps", ""),
			[]string{"Give a kind and a name"}, nil},
		{"namespaced without namespace", lookupPath("Deployment", "", "podinfo"),
			[]string{"Deployment is a namespaced kind"}, nil},
		{"owner missing", lookupPath("ConfigMap", "apps", "odd"),
			[]string{"ConfigMap apps/odd is managed by a Kustomization that is not found or not visible to you."}, []string{"alert(2)"}},
		{"script name is text", lookupPath("ConfigMap", "apps", "<script>alert(1)</script>"),
			[]string{"ConfigMap apps/&lt;script&gt;alert(1)&lt;/script&gt;: not found"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := get(t, h, tc.path).Body.String()
			answer := answerOf(t, page)
			for _, w := range tc.want {
				if !strings.Contains(answer, w) {
					t.Errorf("the answer does not say %q:\n%s", w, answer)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(answer, w) {
					t.Errorf("the answer says %q:\n%s", w, answer)
				}
			}
			if strings.Contains(page, "<script>alert") {
				t.Errorf("the page carries a script from the query or a label")
			}
			q, _ := url.ParseQuery(strings.TrimPrefix(tc.path, "/?"))
			if k := q.Get("who-kind"); !strings.Contains(page, `name="who-kind" value="`+k+`"`) {
				t.Errorf("the form does not show the kind %q back", k)
			}
		})
	}
	if page := get(t, h, "/").Body.String(); strings.Contains(page, "lookup-answer") || !strings.Contains(page, `name="who-kind"`) {
		t.Errorf("the overview without a query should show the form and no answer")
	}
}

// TestLookupHidesWhatTheViewerMayNotSee checks the lookup in the cluster:
// an object the viewer may not get answers as a missing one (and is not
// read), and an owner in a namespace the viewer may not read is not named.
func TestLookupHidesWhatTheViewerMayNotSee(t *testing.T) {
	opts := testOptions()
	reader := newFakeObjects(lookupObjects()...)
	opts.Objects = reader
	opts.Access = auth.NewAccess(&fakeRBAC{}, auth.AccessOptions{Now: opts.Now}) // the anonymous visitor reads apps only
	h := New(opts)

	owner := answerOf(t, get(t, h, lookupPath("Deployment", "apps", "podinfo")).Body.String())
	if owner != "<span aria-hidden=\"true\">ⓘ</span> Deployment apps/podinfo is managed by a Kustomization that is not found or not visible to you." {
		t.Errorf("hidden owner answer: %s", owner)
	}
	hidden := answerOf(t, get(t, h, lookupPath("Deployment", "flux-system", "hidden-app")).Body.String())
	missing := answerOf(t, get(t, h, lookupPath("Deployment", "flux-system", "no-such-app")).Body.String())
	if hidden != strings.Replace(missing, "no-such-app", "hidden-app", 1) || !strings.Contains(hidden, "not found or not visible to you") {
		t.Errorf("a hidden object answers otherwise than a missing one:\n%s\n%s", hidden, missing)
	}
	_, _, read := reader.counts()
	for _, r := range read {
		if strings.HasPrefix(r, "flux-system/") {
			t.Errorf("the reader read %s, which the viewer may not get", r)
		}
	}
	helm := answerOf(t, get(t, h, lookupPath("ConfigMap", "apps", "podinfo-values")).Body.String())
	if !strings.Contains(helm, `href="/o/helm.toolkit.fluxcd.io/HelmRelease/apps/podinfo"`) {
		t.Errorf("a visible owner is not linked: %s", helm)
	}
}
