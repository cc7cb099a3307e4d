package release

import (
	"strings"
	"testing"

	helmrelease "helm.sh/helm/v4/pkg/release/v1"
)

// A change of the effective postRenderStrategy upgrades a release whose
// record says how it was rendered; a record that does not say (Flux made
// it) is left alone, so moving from Flux upgrades nothing.
func TestDecidePostRenderStrategy(t *testing.T) {
	cases := []struct {
		name         string
		stored, want string
		state        State
	}{
		{"same", "combined", "combined", InSync},
		{"changed", "combined", "nohooks", OutOfSync},
		{"separate", "nohooks", "separate", OutOfSync},
		{"record without the label", "", "nohooks", InSync},
		{"desired unknown", "combined", "", InSync},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, w := deployed(), want()
			s.PostRenderStrategy, w.PostRenderStrategy = c.stored, c.want
			v := Decide(s, w)
			if v.State != c.state {
				t.Fatalf("Decide = %s (%s), want %s", v.State, v.Reason, c.state)
			}
			if v.State == OutOfSync && (!strings.Contains(v.Reason, c.stored) || !strings.Contains(v.Reason, c.want)) {
				t.Errorf("reason %q names neither strategy", v.Reason)
			}
		})
	}
}

func TestObserveReadsTheStrategyLabel(t *testing.T) {
	d, err := NewDigester("sha256")
	if err != nil {
		t.Fatal(err)
	}
	rls := &helmrelease.Release{Name: "app", Namespace: "apps", Version: 1,
		Labels: map[string]string{PostRenderStrategyLabel: "separate"}}
	s, err := d.Observe(rls)
	if err != nil {
		t.Fatal(err)
	}
	if s.PostRenderStrategy != "separate" {
		t.Errorf("PostRenderStrategy = %q", s.PostRenderStrategy)
	}
}
