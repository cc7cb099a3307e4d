package apply

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestInventoryIDs(t *testing.T) {
	cases := []struct {
		ref ObjectRef
		id  string
	}{
		{ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "apps", Name: "settings"}, "apps_settings__ConfigMap"},
		{ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "apps", Name: "web"}, "apps_web_apps_Deployment"},
		{ObjectRef{Version: "v1", Kind: "Namespace", Name: "apps"}, "_apps__Namespace"},
		{ObjectRef{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Name: "system:aggregate-to-edit"},
			"_system__aggregate-to-edit_rbac.authorization.k8s.io_ClusterRole"},
		{ObjectRef{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition", Name: "widgets.example.com"},
			"_widgets.example.com_apiextensions.k8s.io_CustomResourceDefinition"},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			if got := tc.ref.ID(); got != tc.id {
				t.Errorf("ID() = %q, want %q", got, tc.id)
			}
			back, err := ParseID(tc.id, tc.ref.Version)
			if err != nil {
				t.Fatal(err)
			}
			if back != tc.ref {
				t.Errorf("ParseID = %+v, want %+v", back, tc.ref)
			}
		})
	}
}

func TestBadInventoryIDs(t *testing.T) {
	for _, id := range []string{"", "name", "ns_name", "ns_name_Kind", "ns__group_Kind", "ns_name_group_"} {
		if ref, err := ParseID(id, "v1"); err == nil {
			t.Errorf("ParseID(%q) = %+v, want an error", id, ref)
		} else if !strings.Contains(err.Error(), "inventory entry") {
			t.Errorf("ParseID(%q): error %q does not say what it parsed", id, err)
		}
	}
	inv := Inventory{Entries: []InventoryEntry{{ID: "apps_web_apps_Deployment", Version: "v1"}, {ID: "broken", Version: "v1"}}}
	if _, err := inv.Refs(); err == nil || !strings.Contains(err.Error(), `"broken"`) {
		t.Errorf("Refs: error %v, want one naming the broken entry", err)
	}
	if _, err := Diff(inv, NewInventory()); err == nil {
		t.Error("Diff: no error for a broken entry")
	}
}

func TestInventoryDiff(t *testing.T) {
	cm := ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "apps", Name: "settings"}
	dep := ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "apps", Name: "web"}
	hpa := ObjectRef{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler", Namespace: "apps", Name: "web"}
	hpaV1 := hpa
	hpaV1.Version = "v1"
	cases := []struct {
		name     string
		old, new []ObjectRef
		stale    []ObjectRef
	}{
		{"nothing removed", []ObjectRef{cm, dep}, []ObjectRef{dep, cm}, nil},
		{"one removed", []ObjectRef{cm, dep, hpa}, []ObjectRef{cm, hpa}, []ObjectRef{dep}},
		{"new version is the same object", []ObjectRef{hpaV1}, []ObjectRef{hpa}, nil},
		{"everything removed", []ObjectRef{cm, dep}, nil, []ObjectRef{cm, dep}},
		{"first inventory", nil, []ObjectRef{cm}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stale, err := Diff(NewInventory(tc.old...), NewInventory(tc.new...))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stale, tc.stale) {
				t.Errorf("stale %v, want %v", stale, tc.stale)
			}
		})
	}
}

func TestNewInventoryKeepsTheLastVersion(t *testing.T) {
	dep := ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "apps", Name: "web"}
	newer := dep
	newer.Version = "v2"
	inv := NewInventory(dep, ObjectRef{Version: "v1", Kind: "Namespace", Name: "apps"}, newer)
	want := []InventoryEntry{{ID: "apps_web_apps_Deployment", Version: "v2"}, {ID: "_apps__Namespace", Version: "v1"}}
	if !reflect.DeepEqual(inv.Entries, want) {
		t.Errorf("NewInventory = %+v, want %+v", inv.Entries, want)
	}
}

func TestChangeSetText(t *testing.T) {
	cs := &ChangeSet{}
	for _, c := range []Change{
		{Ref: ObjectRef{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition", Name: "widgets.example.com"}, Action: Created},
		{Ref: ObjectRef{Version: "v1", Kind: "Namespace", Name: "apps"}, Action: Unchanged},
		{Ref: ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "apps", Name: "settings"}, Action: Configured},
		{Ref: ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "apps", Name: "web"}, Action: Unchanged},
		{Ref: ObjectRef{Version: "v1", Kind: "Secret", Namespace: "apps", Name: "token"}, Action: Skipped},
		{Ref: ObjectRef{Group: "batch", Version: "v1", Kind: "Job", Namespace: "apps", Name: "migrate"}, Action: Created},
		{Ref: ObjectRef{Version: "v1", Kind: "Service", Namespace: "apps", Name: "old"}, Action: Deleted},
	} {
		cs.add(c.Ref, c.Action)
	}
	golden(t, "changeset.golden", cs.String()+"\n")
	if inv := cs.Inventory(); len(inv.Entries) != 6 {
		t.Errorf("inventory of %d entries, want 6 (all but the deleted one): %v", len(inv.Entries), inv.Entries)
	}
	var nilSet *ChangeSet
	if nilSet.String() != "" || nilSet.Changed() || len(nilSet.Inventory().Entries) != 0 {
		t.Error("a nil change set is not empty")
	}
}

// golden compares got with testdata/name, which -update rewrites.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", path, got, want)
	}
}
