package web

import (
	"context"
	"net/url"
	"reflect"
	"testing"
)

// TestFilters checks that a query selects exactly its rows, in the
// overview's order (failures first), and that the form reproduces it.
func TestFilters(t *testing.T) {
	s := newServer(testOptions())
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"apps/untrusted", "apps/broken", "apps/podinfo", "flux-system/flux-system", "flux-system/apps", "flux-system/slack", "flux-system/on-call"}},
		{"kind=Kustomization", []string{"apps/untrusted", "apps/broken", "flux-system/apps"}},
		{"namespace=apps", []string{"apps/untrusted", "apps/broken", "apps/podinfo"}},
		{"kind=Kustomization&namespace=flux-system", []string{"flux-system/apps"}},
		{"status=ready", []string{"flux-system/apps", "flux-system/slack", "flux-system/on-call"}},
		{"status=not-ready", []string{"apps/untrusted", "apps/broken", "apps/podinfo"}},
		{"status=suspended", []string{"flux-system/flux-system"}},
		{"status=reconciling", nil},
		{"status=attention", []string{"apps/untrusted", "apps/broken", "apps/podinfo", "flux-system/flux-system"}},
		{"q=BROKEN", []string{"apps/broken"}}, // name, any case
		{"q=flux-sys", []string{"flux-system/flux-system", "flux-system/apps", "flux-system/slack", "flux-system/on-call"}}, // namespace
		{"q=overlay", []string{"apps/broken"}}, // a message's second line
		{"q=%3Cscript%3E", []string{"apps/untrusted"}},
		{"q=apps&kind=HelmRelease", []string{"apps/podinfo"}},
		{"kind=NoSuchKind", nil},
		{"status=bogus", nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			d := s.overviewData(context.Background(), parseFilter(q))
			var got []string
			for _, r := range d.Rows {
				got = append(got, r.Namespace+"/"+r.Name)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rows = %q, want %q", got, tc.want)
			}
			// The form shows the filter back: the query reproduces the view.
			for _, opts := range [][]option{d.Kinds, d.Namespaces, d.Statuses} {
				for _, o := range opts {
					if o.Selected != (o.Value == q.Get("kind") || o.Value == q.Get("namespace") || o.Value == q.Get("status")) {
						t.Errorf("option %q selected = %v", o.Value, o.Selected)
					}
				}
			}
			if d.Filter.Q != q.Get("q") {
				t.Errorf("search box = %q, want %q", d.Filter.Q, q.Get("q"))
			}
		})
	}
}
