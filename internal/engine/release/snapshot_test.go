package release

import (
	"strings"
	"testing"
	"time"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"

	v2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/engine/helmvalues"
)

func helmRecord(version int, status common.Status, values map[string]any) *helmrelease.Release {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &helmrelease.Release{Name: "app", Namespace: "apps", Version: version,
		Info:   &helmrelease.Info{Status: status, FirstDeployed: at, LastDeployed: at.Add(time.Duration(version) * time.Hour)},
		Chart:  &chartv2.Chart{Metadata: &chartv2.Metadata{Name: "app", Version: "1.2.0", AppVersion: "9.9"}},
		Config: values, Manifest: "kind: ConfigMap\n",
		Labels: map[string]string{v2.NameLabel: "app", v2.NamespaceLabel: "flux-system"}}
}

func TestDigester(t *testing.T) {
	if _, err := NewDigester("md5"); err == nil || !strings.Contains(err.Error(), "sha256, sha384 or sha512") {
		t.Errorf("md5 accepted: %v", err)
	}
	for algo, prefix := range map[string]string{"": "sha256:", "sha256": "sha256:", "sha384": "sha384:", "sha512": "sha512:"} {
		d, err := NewDigester(algo)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Of([]byte("x")); !strings.HasPrefix(got, prefix) {
			t.Errorf("%q: %s", algo, got)
		}
	}
	d, _ := NewDigester("")
	a, _ := d.Values(map[string]any{"a": 1, "b": map[string]any{"x": true, "y": []any{"1", 2}}})
	b, _ := d.Values(map[string]any{"b": map[string]any{"y": []any{"1", 2}, "x": true}, "a": 1})
	c, _ := d.Values(map[string]any{"a": 2})
	empty, _ := d.Values(nil)
	none, _ := d.Values(map[string]any{})
	if a != b || a == c || empty != none {
		t.Errorf("values digests: equal maps %s %s, other %s, nil %s, empty %s", a, b, c, empty, none)
	}
	// The stored release's values and the composed ones are digested alike.
	if want := helmvalues.Digest(map[string]any{"a": 1}); want == "" || func() string { v, _ := d.Values(map[string]any{"a": 1}); return v }() != want {
		t.Errorf("release and helmvalues digests differ")
	}
}

func TestObserveAndSnapshot(t *testing.T) {
	d, _ := NewDigester("")
	rls := helmRecord(3, common.StatusDeployed, map[string]any{"replicas": 2})
	st, err := d.Observe(rls)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != StatusDeployed || st.ChartName != "app" || st.ChartVersion != "1.2.0" || st.OwnerName != "app" || st.OwnerNamespace != "flux-system" {
		t.Errorf("observed %+v", st)
	}
	snap, err := d.Snapshot(rls, "1.2.0+0123456789ab", "sha256:oci")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Digest != st.Digest || snap.ConfigDigest != st.ConfigDigest || snap.Version != 3 || snap.AppVersion != "9.9" ||
		snap.ChartVersion != "1.2.0+0123456789ab" || snap.OCIDigest != "sha256:oci" || snap.APIVersion != SnapshotAPIVersion ||
		!snap.LastDeployed.Time.Equal(rls.Info.LastDeployed) || snap.Deleted != nil {
		t.Errorf("snapshot %+v", snap)
	}
	// A record changed behind the controller's back has another digest,
	// and Decide calls it Unmanaged.
	changed := helmRecord(3, common.StatusDeployed, map[string]any{"replicas": 2})
	changed.Manifest = "kind: Secret\n"
	st2, _ := d.Observe(changed)
	w := want()
	w.Status.History = []v2.Snapshot{snap}
	w.ChartVersion, w.ConfigDigest = "1.2.0", st.ConfigDigest
	if st2.Digest == st.Digest || Decide(st2, w).State != Unmanaged || Decide(st, w).State != InSync {
		t.Errorf("a mutated record: digest %s vs %s, %s; the original %s", st2.Digest, st.Digest, Decide(st2, w).State, Decide(st, w).State)
	}
	if st, _ := d.Observe(nil); st != nil {
		t.Error("no record observed as one")
	}
}

func TestRecordKeepsHistoryDownToTheLastSuccess(t *testing.T) {
	snap := func(v int, status string) v2.Snapshot {
		return v2.Snapshot{Name: "app", Namespace: "apps", Version: v, Status: status}
	}
	versions := func(h []v2.Snapshot) (out []int) {
		for _, s := range h {
			out = append(out, s.Version)
		}
		return out
	}
	h := Record(nil, snap(1, StatusDeployed), 5)
	h = Record(h, snap(2, StatusFailed), 5)
	h = Record(h, snap(3, StatusFailed), 5)
	if got := versions(h); len(got) != 3 || got[0] != 3 || got[2] != 1 {
		t.Fatalf("after two failures: %v", got)
	}
	// The failed record, rolled back: v1 superseded, v4 deployed.
	h = Record(h, snap(4, StatusDeployed), 5)
	if got := versions(h); len(got) != 1 || got[0] != 4 {
		t.Errorf("after a success: %v, want [4]", got)
	}
	// Tests update a record in place: the same version replaces it.
	h = Record(h, snap(4, StatusDeployed), 5)
	if len(h) != 1 {
		t.Errorf("the same version recorded twice: %v", versions(h))
	}
	for v := 5; v < 12; v++ {
		h = Record(h, snap(v, StatusFailed), 3)
	}
	if got := versions(h); len(got) != 3 || got[0] != 11 {
		t.Errorf("maxHistory 3: %v", got)
	}
	for v := 12; v < 20; v++ {
		h = Record(h, snap(v, StatusFailed), 0)
	}
	if got := versions(h); len(got) != 11 {
		t.Errorf("no bound: %d snapshots, want 11", len(got))
	}
}
