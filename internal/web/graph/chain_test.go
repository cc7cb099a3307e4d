package graph

import (
	"reflect"
	"testing"
)

func linkNames(ls []Link) []string {
	var out []string
	for _, l := range ls {
		s := l.Node.Name + "@" + string(rune('0'+l.Depth))
		if l.Node.Missing {
			s += " missing"
		}
		out = append(out, s)
	}
	return out
}

func TestDependsOnChain(t *testing.T) {
	// a <- b <- c, b also waits for a missing one; d waits for c; e and f
	// wait for each other and for b.
	in := objs(ks("apps", "a", "fleet"), ks("apps", "b", "fleet", "a", "gone"), ks("apps", "c", "fleet", "b"),
		ks("apps", "d", "fleet", "c"), ks("apps", "e", "fleet", "f", "b"), ks("apps", "f", "fleet", "e"),
		ks("other", "lonely", "fleet"))
	c, err := DependsOn(in, ksID("apps", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := linkNames(c.Upstream), []string{"a@1", "gone@1 missing"}; !reflect.DeepEqual(got, want) {
		t.Errorf("upstream = %q, want %q", got, want)
	}
	if got, want := linkNames(c.Downstream), []string{"c@1", "e@1", "d@2", "f@2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("downstream = %q, want %q", got, want)
	}
	if len(c.Cycles) != 0 {
		t.Errorf("b is on no cycle, got %q", c.Cycles)
	}
	c, err = DependsOn(in, ksID("apps", "e"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"apps/e -> apps/f -> apps/e"}; !reflect.DeepEqual(c.Cycles, want) {
		t.Errorf("cycles = %q, want %q", c.Cycles, want)
	}
	if got, want := linkNames(c.Upstream), []string{"b@1", "f@1", "a@2", "gone@2 missing"}; !reflect.DeepEqual(got, want) {
		t.Errorf("upstream of e = %q, want %q", got, want)
	}
	if _, err := DependsOn(in, ksID("apps", "nope")); err == nil {
		t.Error("chain of a missing object: no error")
	}
}

// TestDependsOnNoLimit: a page about one object draws its chain whatever
// the size of the fleet.
func TestDependsOnNoLimit(t *testing.T) {
	in := objs(ks("apps", "root", "fleet"))
	for i := 0; i < MaxNodes+5; i++ {
		in = append(in, ks("apps", "dep"+string(rune('a'+i/26%26))+string(rune('a'+i%26))+string(rune('0'+i/676)), "fleet", "root"))
	}
	c, err := DependsOn(in, ksID("apps", "root"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Downstream) != MaxNodes+5 {
		t.Errorf("%d downstream, want %d", len(c.Downstream), MaxNodes+5)
	}
}
