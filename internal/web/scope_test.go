package web

import (
	"strings"
	"testing"
)

// limitedStore is the fixtures as a store that watches two namespaces and
// has lost its API server.
type limitedStore struct {
	*MemoryStore
	problem string
}

func (limitedStore) Namespaces() ([]string, bool, string) {
	return []string{"apps", "flux-system"}, true, "you may not list cluster-wide"
}

func (s limitedStore) Problem() string { return s.problem }

func TestPagesSayWhatTheStoreLeavesOut(t *testing.T) {
	opts := testOptions()
	st := limitedStore{MemoryStore: NewMemoryStore(fixtures()...), problem: "the API server is not answering <b>"}
	opts.Store = st
	h := New(opts)
	for _, p := range []string{"/", "/graph", "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/broken"} {
		body := get(t, h, p).Body.String()
		if !strings.Contains(body, `<p class="notice scope">showing namespaces apps, flux-system: you may not list cluster-wide</p>`) {
			t.Errorf("%s does not say which namespaces it shows", p)
		}
		if !strings.Contains(body, `<p class="notice trouble" role="alert">the API server is not answering &lt;b&gt;</p>`) {
			t.Errorf("%s does not say the API server is not answering", p)
		}
	}
	st.problem = ""
	opts.Store = st
	if body := get(t, New(opts), "/").Body.String(); strings.Contains(body, "not answering") {
		t.Error("the notice stays once the API server answers")
	}
}
