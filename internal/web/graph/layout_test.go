package graph

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"

	"github.com/driftless/driftless/internal/kinds"
)

// crossed is a graph whose stable-key order crosses every edge: sources
// a, b, c read by Kustomizations z, y, x.
func crossed() []kinds.Object {
	return objs(git("ns", "a"), git("ns", "b"), git("ns", "c"),
		ks("ns", "z", "a"), ks("ns", "y", "b"), ks("ns", "x", "c"),
		ks("ns", "w", "c", "x"), ks("ns", "v", "a", "z"))
}

func TestBarycentreReducesCrossings(t *testing.T) {
	g, err := Build(crossed(), Scope{})
	if err != nil {
		t.Fatal(err)
	}
	assignLayers(g)
	layers, segs, _ := buildLayers(g)
	before := crossings(layers, segs)
	order(layers, segs)
	after := crossings(layers, segs)
	if before < 3 {
		t.Fatalf("the crafted case starts with %d crossings, want at least 3", before)
	}
	if after != 0 {
		t.Errorf("crossings %d before ordering, %d after; want 0 after", before, after)
	}
}

func TestLayers(t *testing.T) {
	// The bootstrap shape: flux-system reads the GitRepository it also
	// applied (a cycle with the appliedBy edge), infra after it, apps after
	// infra, a dependsOn cycle b <-> c after the source.
	in := objs(appliedBy(git("f", "repo"), "f", "root"), ks("f", "root", "repo"),
		appliedBy(ks("f", "infra", "repo"), "f", "root"),
		appliedBy(ks("f", "apps", "repo", "infra"), "f", "root"),
		ks("f", "b", "repo", "c"), ks("f", "c", "repo", "b"))
	g, err := Build(in, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	layer := func(id string) int { return g.Node(id).Layer }
	if l := layer(gitID("f", "repo")); l != 0 {
		t.Errorf("the source is in layer %d, want 0", l)
	}
	for _, e := range g.Edges {
		if e.Type == EdgeAppliedBy && e.To == gitID("f", "repo") {
			continue // the cycle broken for layering
		}
		if e.Cycle {
			continue
		}
		if layer(e.From) >= layer(e.To) {
			t.Errorf("%s edge %s (layer %d) -> %s (layer %d) does not go down the layers",
				e.Type, e.From, layer(e.From), e.To, layer(e.To))
		}
	}
	if lb, lc := layer(ksID("f", "b")), layer(ksID("f", "c")); lb == lc {
		t.Errorf("the dependsOn cycle b <-> c was not broken for layering: both in layer %d", lb)
	}
	if a, i := layer(ksID("f", "apps")), layer(ksID("f", "infra")); a <= i {
		t.Errorf("apps in layer %d, not after infra in layer %d", a, i)
	}
}

// TestDeterministic builds a graph with every feature (long edges,
// cycles, missing nodes, several namespaces) from its objects in 20
// shuffled orders: the SVG and the JSON must not change by a byte.
func TestDeterministic(t *testing.T) {
	in := append(crossed(),
		appliedBy(git("f", "repo"), "f", "root"), ks("f", "root", "repo"),
		appliedBy(ks("f", "infra", "repo"), "f", "root"),
		appliedBy(ks("f", "apps", "repo", "infra", "gone"), "f", "root"),
		ks("f", "b", "repo", "c"), ks("f", "c", "repo", "d"), ks("f", "d", "repo", "b"),
		hr("apps", "web", "db"), hr("apps", "db"), ks("f", "late", "repo", "apps"))
	for i := 0; i < 12; i++ {
		in = append(in, ks("bulk", fmt.Sprintf("k%02d", i), "repo", fmt.Sprintf("k%02d", (i*5)%12)))
	}
	render := func(objects []kinds.Object) ([]byte, []byte) {
		g, err := Build(objects, Scope{})
		if err != nil {
			t.Fatal(err)
		}
		j, err := g.JSON()
		if err != nil {
			t.Fatal(err)
		}
		return g.SVG(), j
	}
	wantSVG, wantJSON := render(in)
	rng := rand.New(rand.NewSource(21))
	for i := 0; i < 20; i++ {
		shuffled := append([]kinds.Object(nil), in...)
		rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		svg, j := render(shuffled)
		if !bytes.Equal(svg, wantSVG) {
			t.Fatalf("shuffle %d: the SVG differs", i)
		}
		if !bytes.Equal(j, wantJSON) {
			t.Fatalf("shuffle %d: the JSON differs", i)
		}
	}
}
