package apply

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func liveDeployment(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile("testdata/live-deployment.json")
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(raw); err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestFieldOwners(t *testing.T) {
	live := liveDeployment(t)
	cases := []struct {
		path       string
		own, other bool
	}{
		{"/spec/replicas", true, true},
		{"/spec/template/spec/containers/0/image", true, false},
		{"/spec/template/spec/containers/1/image", false, false},
		{"/spec/template", true, false},
		{"/spec/selector/matchLabels/app", true, false}, // an atomic parent
		{"/metadata/labels/extra", false, false},        // an update, not an apply
		{"/metadata/labels/app", true, false},
		{"/spec/paused", false, false},
		{"/spec/missing", false, false},
		{"/status/replicas", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			path, err := parsePointer(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			own, other := flux.owners(live, path)
			if own != tc.own || other != tc.other {
				t.Errorf("owners = own %v, other apply %v; want %v, %v", own, other, tc.own, tc.other)
			}
		})
	}
}

func TestCleanupPatch(t *testing.T) {
	cases := []struct {
		name      string
		overrides []string
		golden    string
	}{
		{"default managers", nil, "cleanup-patch.golden"},
		{"with an override manager", []string{"hpa"}, "cleanup-patch-override.golden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			patch, err := flux.cleanupPatch(liveDeployment(t), flux.cleanupRules(tc.overrides), true)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := json.Indent(&out, patch, "", "  "); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, out.String()+"\n")
		})
	}
	t.Run("nothing to clean", func(t *testing.T) {
		live := liveDeployment(t)
		live.SetManagedFields(live.GetManagedFields()[:1])
		live.SetAnnotations(nil)
		live.SetLabels(nil)
		if patch, err := flux.cleanupPatch(live, flux.cleanupRules(nil), true); patch != nil || err != nil {
			t.Errorf("patch %s, error %v; want none", patch, err)
		}
	})
	t.Run("broken managed fields", func(t *testing.T) {
		live := liveDeployment(t)
		entries := live.Object["metadata"].(map[string]any)["managedFields"].([]any)
		entries[1].(map[string]any)["fieldsV1"] = map[string]any{"zz:not-a-path": map[string]any{}}
		_, err := flux.cleanupPatch(live, flux.cleanupRules(nil), true)
		wantErr(t, err, "managedFields of kubectl-edit (Update)")
	})
}
