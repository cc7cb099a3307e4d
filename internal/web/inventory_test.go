package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web/auth"
)

// withInventory is a Kustomization of namespace/name whose inventory lists
// ids (at version v1).
func withInventory(namespace, name string, ids ...string) *kustomizev1.Kustomization {
	ks := kustomization(namespace, name)
	ks.Status.Inventory = &kustomizev1.ResourceInventory{}
	for _, id := range ids {
		ks.Status.Inventory.Entries = append(ks.Status.Inventory.Entries, kustomizev1.ResourceRef{ID: id, Version: "v1"})
	}
	return ks
}

// inventoryOptions are testOptions with extra objects in the store and
// objects for the reader.
func inventoryOptions(store []kinds.Object, objs ...*unstructured.Unstructured) (Options, *fakeObjects) {
	opts := testOptions()
	opts.Store = NewMemoryStore(append(fixtures(), store...)...)
	reader := newFakeObjects(objs...)
	opts.Objects = reader
	return opts, reader
}

// entryWords are the tree's entries as "namespace/Kind/name: word", in
// page order, nested trees indented by "> ".
func entryWords(d *inventoryData, prefix string) []string {
	var out []string
	for _, ns := range d.Namespaces {
		for _, k := range ns.Kinds {
			for _, e := range k.Entries {
				out = append(out, prefix+ns.Namespace+"/"+k.Kind+"/"+e.Name+": "+e.Badge.Word)
				if e.Nested != nil {
					out = append(out, entryWords(e.Nested, prefix+"> ")...)
				}
			}
		}
	}
	return out
}

// TestInventoryGroupsAndHealth checks the tree's order (namespace, then
// kind, then name; cluster-scoped first), each entry's kstatus word, and
// that a kind with more than a few entries in a namespace is read with
// one List and no Get.
func TestInventoryGroupsAndHealth(t *testing.T) {
	ks := withInventory("apps", "web",
		"apps_podinfo_apps_Deployment", "apps_broken_apps_Deployment", "apps_rolling_apps_Deployment",
		"apps_gone_apps_Deployment", "apps_zeta_apps_Deployment", "apps_settings__ConfigMap", "_apps__Namespace")
	opts, reader := inventoryOptions([]kinds.Object{ks},
		deployment("apps", "podinfo", rolledOut, nil), deployment("apps", "broken", rolloutFailed, nil),
		deployment("apps", "rolling", rolloutRunning, nil), deployment("apps", "zeta", rolledOut, nil),
		uobj("v1", "ConfigMap", "apps", "settings", nil, nil, nil),
		uobj("v1", "Namespace", "", "apps", nil, nil, map[string]any{"phase": "Active"}))
	s := newServer(opts)
	d := s.inventoryTree(context.Background(), "/o/x", url.Values{}, kinds.Kustomization(), ks)
	want := []string{
		"/Namespace/apps: Current",
		"apps/ConfigMap/settings: Current",
		"apps/Deployment/broken: Failed",
		"apps/Deployment/gone: NotFound",
		"apps/Deployment/podinfo: Current",
		"apps/Deployment/rolling: InProgress",
		"apps/Deployment/zeta: Current",
	}
	if got := entryWords(d, ""); !reflect.DeepEqual(got, want) {
		t.Errorf("entries:\n got %q\nwant %q", got, want)
	}
	if d.Total != 7 {
		t.Errorf("total = %d, want 7", d.Total)
	}
	// Five Deployments: one List; the ConfigMap and the Namespace: one Get each.
	if gets, lists, read := reader.counts(); gets != 2 || lists != 1 {
		t.Errorf("reads: %d gets, %d lists (%q), want 2 gets and 1 list", gets, lists, read)
	}

	page := get(t, New(opts), "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/web").Body.String()
	for _, w := range []string{"✖</span> Failed", "Progress deadline exceeded", "↻</span> InProgress", "∅</span> NotFound",
		"✔</span> Current", "Namespace apps", "Cluster-scoped", "Inventory (7)"} {
		if !strings.Contains(page, w) {
			t.Errorf("the page does not show %q", w)
		}
	}
}

// TestInventoryNoAccess checks, in the cluster, that an entry the viewer
// may not get shows its kind and name and "no access", never its health
// or message, and is not even read.
func TestInventoryNoAccess(t *testing.T) {
	ks := withInventory("apps", "mixed", "apps_podinfo_apps_Deployment", "flux-system_secret-app_apps_Deployment")
	opts, reader := inventoryOptions([]kinds.Object{ks},
		deployment("apps", "podinfo", rolledOut, nil), deployment("flux-system", "secret-app", rolloutFailed, nil))
	opts.Access = auth.NewAccess(&fakeRBAC{}, auth.AccessOptions{Now: opts.Now}) // the anonymous visitor reads apps only
	rec := get(t, New(opts), "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/mixed")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET: %d\n%s", rec.Code, rec.Body)
	}
	page := rec.Body.String()
	if !strings.Contains(page, "⊘</span> no access</span></span> secret-app") {
		t.Errorf("the hidden entry is not shown as name and no access:\n%s", page)
	}
	for _, hidden := range []string{"secret-app-7d", "Progress deadline", "Failed"} {
		if strings.Contains(page, hidden) {
			t.Errorf("the page shows %q, the health of an object the viewer may not get", hidden)
		}
	}
	if !strings.Contains(page, "✔</span> Current</span></span> podinfo") {
		t.Errorf("the visible entry lost its health")
	}
	_, _, read := reader.counts()
	for _, r := range read {
		if strings.HasPrefix(r, "flux-system/") {
			t.Errorf("the reader read %s, which the viewer may not get", r)
		}
	}
}

// TestInventoryForbiddenForTheLocalUser checks `flux ui`: without Access
// the reader acts as the user, and a Forbidden read shows "no access".
func TestInventoryForbiddenForTheLocalUser(t *testing.T) {
	ks := withInventory("apps", "mixed", "apps_podinfo_apps_Deployment", "apps_settings__ConfigMap")
	opts, reader := inventoryOptions([]kinds.Object{ks},
		deployment("apps", "podinfo", rolledOut, nil), uobj("v1", "ConfigMap", "apps", "settings", nil, nil, nil))
	reader.forbid = func(k ObjectKind, _, _ string) bool { return k.Kind == "ConfigMap" }
	d := newServer(opts).inventoryTree(context.Background(), "/", url.Values{}, kinds.Kustomization(), ks)
	want := []string{"apps/ConfigMap/settings: no access", "apps/Deployment/podinfo: Current"}
	if got := entryWords(d, ""); !reflect.DeepEqual(got, want) {
		t.Errorf("entries:\n got %q\nwant %q", got, want)
	}
}

// TestInventoryNestedKustomization checks that a Kustomization in the
// inventory links to its page and expands in place, and that a cycle
// (apps lists platform, which lists apps) expands each once.
func TestInventoryNestedKustomization(t *testing.T) {
	root := withInventory("flux-system", "root", "flux-system_platform_kustomize.toolkit.fluxcd.io_Kustomization")
	platform := withInventory("flux-system", "platform", "apps_podinfo_apps_Deployment",
		"flux-system_root_kustomize.toolkit.fluxcd.io_Kustomization")
	kustomizationU := func(name string) *unstructured.Unstructured {
		return uobj("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", name, nil, nil,
			map[string]any{"observedGeneration": int64(1), "conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded"}}})
	}
	opts, _ := inventoryOptions([]kinds.Object{root, platform},
		kustomizationU("root"), kustomizationU("platform"), deployment("apps", "podinfo", rolledOut, nil))
	s := newServer(opts)
	d := s.inventoryTree(context.Background(), "/", url.Values{}, kinds.Kustomization(), root)
	want := []string{
		"flux-system/Kustomization/platform: Current",
		"> apps/Deployment/podinfo: Current",
		"> flux-system/Kustomization/root: Current",
	}
	if got := entryWords(d, ""); !reflect.DeepEqual(got, want) {
		t.Fatalf("entries:\n got %q\nwant %q", got, want)
	}
	nested := d.Namespaces[0].Kinds[0].Entries[0]
	if nested.Link != "/o/kustomize.toolkit.fluxcd.io/Kustomization/flux-system/platform" {
		t.Errorf("nested link = %q", nested.Link)
	}
	back := nested.Nested.Namespaces[1].Kinds[0].Entries[0]
	if back.Nested != nil || !strings.Contains(back.Note, "shown elsewhere") {
		t.Errorf("the cycle back to root expanded again, or says nothing: %+v", back)
	}
	page := get(t, New(opts), "/o/kustomize.toolkit.fluxcd.io/Kustomization/flux-system/root").Body.String()
	if !strings.Contains(page, `<a href="/o/kustomize.toolkit.fluxcd.io/Kustomization/flux-system/platform">platform</a>`) ||
		!strings.Contains(page, "podinfo") {
		t.Errorf("the page does not link and expand the nested Kustomization:\n%s", page)
	}
}

// bigInventory is a Kustomization of n ConfigMaps in apps and one
// Deployment, with the ConfigMaps the reader holds.
func bigInventory(n int) (*kustomizev1.Kustomization, []*unstructured.Unstructured) {
	ids := []string{"apps_podinfo_apps_Deployment"}
	var objs []*unstructured.Unstructured
	for i := range n {
		name := fmt.Sprintf("cm-%05d", i)
		ids = append(ids, "apps_"+name+"__ConfigMap")
		objs = append(objs, uobj("v1", "ConfigMap", "apps", name, nil, nil, nil))
	}
	return withInventory("apps", "big", ids...), append(objs, deployment("apps", "podinfo", rolledOut, nil))
}

// TestInventoryCollapsesAndPages checks that 10,000 entries of one kind
// render as a count with a link, read nothing for that kind, and that the
// link's page parameter shows 200 of them with working next, previous and
// collapse links.
func TestInventoryCollapsesAndPages(t *testing.T) {
	ks, objs := bigInventory(10000)
	opts, reader := inventoryOptions([]kinds.Object{ks}, objs...)
	h := New(opts)
	path := "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/big"
	page := get(t, h, path).Body.String()
	param := "inv:apps/ConfigMap"
	expand := path + "?" + url.Values{param: {"1"}}.Encode()
	anchor := anchorOf(param)
	if !strings.Contains(page, "ConfigMap (10000)") || !strings.Contains(page, `href="`+attr(expand)+"#"+anchor+`"`) ||
		!strings.Contains(page, `<li id="`+anchor+`">`) {
		t.Fatalf("the ConfigMaps are not collapsed to a count with a link to %s", expand)
	}
	if strings.Contains(page, "cm-00000") {
		t.Errorf("a collapsed kind lists its entries")
	}
	if !strings.Contains(page, "podinfo") {
		t.Errorf("the small kind next to it lost its entry")
	}
	if gets, lists, _ := reader.counts(); gets != 1 || lists != 0 {
		t.Errorf("reads for a collapsed kind: %d gets, %d lists; want only the Deployment's get", gets, lists)
	}

	second := get(t, h, path+"?"+url.Values{param: {"2"}}.Encode()).Body.String()
	for _, w := range []string{"Page 2 of 50", "cm-00200", "cm-00399", `rel="prev"`, `rel="next"`, "collapse"} {
		if !strings.Contains(second, w) {
			t.Errorf("page 2 does not show %q", w)
		}
	}
	for _, w := range []string{"cm-00199", "cm-00400"} {
		if strings.Contains(second, w) {
			t.Errorf("page 2 shows %q, from another page", w)
		}
	}
	if n := strings.Count(second, "<li><span title="); n != 201 { // 200 ConfigMaps and the Deployment
		t.Errorf("page 2 lists %d current entries, want 201", n)
	}
	next := path + "?" + url.Values{param: {"3"}}.Encode()
	if !strings.Contains(second, `href="`+attr(next)+"#"+anchor+`"`) {
		t.Errorf("page 2 does not link to page 3 (%s)", next)
	}
	if last := get(t, h, path+"?"+url.Values{param: {"999"}}.Encode()).Body.String(); !strings.Contains(last, "Page 50 of 50") ||
		!strings.Contains(last, "cm-09999") || strings.Contains(last, `rel="next"`) {
		t.Errorf("a page past the end does not show the last page")
	}
}

// attr is s as html/template writes it in an attribute.
func attr(s string) string { return strings.ReplaceAll(s, "&", "&amp;") }

// BenchmarkInventoryCollapsed renders the page of a Kustomization of
// 10,000 ConfigMaps, collapsed.
func BenchmarkInventoryCollapsed(b *testing.B) {
	ks, objs := bigInventory(10000)
	opts, _ := inventoryOptions([]kinds.Object{ks}, objs...)
	h := New(opts)
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "http://localhost:9080/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/big", nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET: %d", rec.Code)
		}
	}
}

// TestInventoryScriptNameIsText checks that names from the status render
// as text.
func TestInventoryScriptNameIsText(t *testing.T) {
	ks := withInventory("apps", "xss", `apps_<script>alert(1)</script>__ConfigMap`)
	opts, _ := inventoryOptions([]kinds.Object{ks})
	page := get(t, New(opts), "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/xss").Body.String()
	if strings.Contains(page, "<script>alert") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("a name with <script> is not escaped:\n%s", page)
	}
}

// TestInventoryUnservedKind checks an entry whose CRD is gone: Unknown,
// saying so, without a read.
func TestInventoryUnservedKind(t *testing.T) {
	ks := withInventory("apps", "crd-gone", "apps_w_example.com_Widget")
	opts, reader := inventoryOptions([]kinds.Object{ks})
	d := newServer(opts).inventoryTree(context.Background(), "/", url.Values{}, kinds.Kustomization(), ks)
	e := d.Namespaces[0].Kinds[0].Entries[0]
	if e.Badge.Word != "Unknown" || !strings.Contains(e.Message, "does not serve this kind") {
		t.Errorf("entry of an unserved kind: %+v", e)
	}
	if gets, lists, _ := reader.counts(); gets+lists != 0 {
		t.Errorf("%d reads of a kind the cluster does not serve", gets+lists)
	}
}
