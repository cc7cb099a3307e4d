package helmdrift

import (
	"fmt"
	"testing"

	"github.com/driftless/driftless/internal/engine/apply"
)

func TestReportString(t *testing.T) {
	ref := func(kind, ns, name string) apply.ObjectRef {
		return apply.ObjectRef{Version: "v1", Kind: kind, Namespace: ns, Name: name}
	}
	many := make([]Change, 12)
	for i := range many {
		many[i] = Change{Op: "replace", Path: fmt.Sprintf("/data/k%02d", i)}
	}
	many[0].Op, many[11].Op = "add", "remove"
	r := &Report{Release: "apps/web.v3", Entries: []Entry{
		{Ref: ref("ConfigMap", "apps", "same"), State: Unchanged},
		{Ref: ref("Deployment", "apps", "web"), State: Drifted, Changes: []Change{{"replace", "/spec/replicas"}, {"add", "/spec/paused"}}},
		{Ref: ref("Namespace", "", "apps"), State: Missing},
		{Ref: ref("Secret", "apps", "token"), State: Excluded},
		{Ref: ref("ConfigMap", "apps", "big"), State: Drifted, Changes: many},
	}}
	want := "Cluster state of release apps/web.v3 has drifted from the desired state:\n" +
		"Deployment/apps/web changed (1 additions, 1 changes, 0 removals): /spec/replicas, /spec/paused\n" +
		"Namespace/apps removed\n" +
		"Secret/apps/token excluded\n" +
		"ConfigMap/apps/big changed (1 additions, 10 changes, 1 removals): /data/k00, /data/k01, /data/k02, /data/k03, /data/k04, /data/k05, /data/k06, /data/k07, /data/k08, /data/k09 and 2 more"
	if got := r.String(); got != want {
		t.Errorf("String:\n%s\nwant:\n%s", got, want)
	}
	if !r.Drifted() || len(r.Corrections()) != 3 {
		t.Errorf("Drifted %v, %d corrections, want true, 3", r.Drifted(), len(r.Corrections()))
	}

	inSync := &Report{Release: "apps/web.v3", Entries: []Entry{
		{Ref: ref("ConfigMap", "apps", "same"), State: Unchanged},
		{Ref: ref("Secret", "apps", "token"), State: Excluded},
	}}
	if inSync.Drifted() || inSync.String() != NoDriftMessage {
		t.Errorf("in sync: Drifted %v, String %q", inSync.Drifted(), inSync.String())
	}
}
