package apply

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

const pruneSet = `
apiVersion: v1
kind: ConfigMap
metadata: {name: kept, namespace: NS}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: stale, namespace: NS}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: prune-disabled, namespace: NS, annotations: {kustomize.toolkit.fluxcd.io/prune: disabled}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: reconcile-disabled, namespace: NS}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ssa-ignore, namespace: NS}
`

func TestPrune(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	m := newManager(t)
	old := mustApply(t, m, objects(t, ns, pruneSet), opts("a", ns)).Inventory()
	// Opt-outs made in the cluster, as a label or an annotation.
	edit(t, configMaps, ns, "reconcile-disabled", "kubectl-edit", func(obj *unstructured.Unstructured) {
		obj.SetLabels(map[string]string{"kustomize.toolkit.fluxcd.io/reconcile": "disabled"})
	})
	edit(t, configMaps, ns, "ssa-ignore", "kubectl-edit", func(obj *unstructured.Unstructured) {
		setAnnotations(obj, map[string]string{"kustomize.toolkit.fluxcd.io/ssa": "Ignore"})
	})
	// An object another Kustomization owns, one already gone and one whose
	// kind is gone, all in the old inventory.
	other := mustApply(t, m, objects(t, ns, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: NS}\n"), opts("b", ns))
	old = old.Add(other.Entries[0].Ref,
		ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "gone"},
		ObjectRef{Group: "gone.example.com", Version: "v1", Kind: "Widget", Namespace: ns, Name: "w"})

	current := mustApply(t, m, objects(t, ns, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept, namespace: NS}\n"), opts("a", ns))
	stale, err := Diff(old, current.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) != 7 {
		t.Fatalf("stale %v, want 7 objects", stale)
	}
	cs, err := m.Prune(ctx, stale, PruneOptions{OwnerLabels: flux.Labels("a", ns)})
	if err != nil {
		t.Fatal(err)
	}
	wantActions(t, cs, ns, map[string]Action{
		"ConfigMap/NS/stale":              Deleted,
		"ConfigMap/NS/prune-disabled":     Skipped,
		"ConfigMap/NS/reconcile-disabled": Skipped,
		"ConfigMap/NS/ssa-ignore":         Skipped,
		"ConfigMap/NS/other":              Skipped,
	})
	for name, want := range map[string]bool{"kept": true, "stale": false, "prune-disabled": true, "reconcile-disabled": true, "ssa-ignore": true, "other": true} {
		if exists := get(t, configMaps, ns, name) != nil; exists != want {
			t.Errorf("ConfigMap %s exists: %v, want %v", name, exists, want)
		}
	}
	if want := "ConfigMap/" + ns + "/stale deleted"; cs.String() != want {
		t.Errorf("event text %q, want %q", cs.String(), want)
	}
	if _, err := m.Prune(ctx, stale, PruneOptions{}); err == nil {
		t.Error("prune without owner labels: no error")
	}
}

func TestPruneReportsFailedDeletes(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	mustApply(t, newManager(t), objects(t, ns, `
apiVersion: v1
kind: ServiceAccount
metadata: {name: no-delete, namespace: NS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: no-delete, namespace: NS}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, patch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: no-delete, namespace: NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: no-delete}
subjects: [{kind: ServiceAccount, name: no-delete, namespace: NS}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: stale, namespace: NS}
`), opts("a", ns))
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":no-delete"}
	m, err := NewForConfig(cfg, flux)
	if err != nil {
		t.Fatal(err)
	}
	stale := ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "stale"}
	cs, err := m.Prune(ctx, []ObjectRef{stale}, PruneOptions{OwnerLabels: flux.Labels("a", ns)})
	wantErr(t, err, "ConfigMap/"+ns+"/stale: delete failed:", "cannot delete resource")
	if failed := FailedDeletes(err); len(failed) != 1 || failed[0] != stale {
		t.Errorf("failed deletes %v, want [%v]", failed, stale)
	}
	if len(cs.Entries) != 0 {
		t.Errorf("change set %v, want empty", cs.Entries)
	}
	// The caller keeps the object in its inventory.
	inv := NewInventory().Add(FailedDeletes(err)...)
	if len(inv.Entries) != 1 || inv.Entries[0].ID != stale.ID() {
		t.Errorf("inventory %v", inv.Entries)
	}
}

func TestDeleteAllPolicies(t *testing.T) {
	cases := []struct {
		policy  string
		prune   bool
		deleted bool
		gone    bool // gone when DeleteAll returns
	}{
		{"", true, true, false},
		{DeletionPolicyMirrorPrune, true, true, false},
		{DeletionPolicyMirrorPrune, false, false, false},
		{DeletionPolicyDelete, false, true, false},
		{DeletionPolicyWaitForTermination, false, true, true},
		{DeletionPolicyOrphan, true, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.policy+"/prune="+map[bool]string{true: "true", false: "false"}[tc.prune], func(t *testing.T) {
			ns := env.Namespace(t)
			ctx := context.Background()
			m := newManager(t)
			// A Namespace takes a while to terminate: it shows whether
			// DeleteAll waits.
			t.Cleanup(func() { _ = env.Kube.CoreV1().Namespaces().Delete(ctx, ns+"-owned", metav1.DeleteOptions{}) })
			cs := mustApply(t, m, objects(t, ns, "apiVersion: v1\nkind: Namespace\nmetadata: {name: NS-owned}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: NS-owned}\n"), opts("a", ns))
			refs, err := cs.Inventory().Refs()
			if err != nil {
				t.Fatal(err)
			}
			cs, err = m.DeleteAll(ctx, refs, tc.policy, tc.prune, PruneOptions{OwnerLabels: flux.Labels("a", ns), WaitTimeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if cs.Changed() != tc.deleted {
				t.Errorf("change set %v, want deleted %v", cs.Entries, tc.deleted)
			}
			live := get(t, namespaces, "", ns+"-owned")
			switch {
			case !tc.deleted && (live == nil || live.GetDeletionTimestamp() != nil):
				t.Error("namespace deleted, want it kept")
			case tc.deleted && live != nil && live.GetDeletionTimestamp() == nil:
				t.Error("namespace not deleted")
			case tc.gone && live != nil:
				t.Error("namespace still there after WaitForTermination")
			}
		})
	}
}

func TestWaitForTerminationIsBounded(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	m := newManager(t)
	objs := objects(t, ns, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, namespace: NS, finalizers: [example.com/hold]}\n")
	cs := mustApply(t, m, objs, opts("a", ns))
	t.Cleanup(func() {
		patch := []byte(`{"metadata":{"finalizers":null}}`)
		_, _ = env.Dynamic.Resource(configMaps).Namespace(ns).Patch(ctx, "held", types.MergePatchType, patch, metav1.PatchOptions{})
	})
	start := time.Now()
	_, err := m.DeleteAll(ctx, []ObjectRef{cs.Entries[0].Ref}, DeletionPolicyWaitForTermination, false,
		PruneOptions{OwnerLabels: flux.Labels("a", ns), WaitTimeout: time.Second})
	wantErr(t, err, "ConfigMap/"+ns+"/held: wait for termination failed: still present after 1s")
	if len(FailedDeletes(err)) != 1 {
		t.Errorf("failed deletes %v", FailedDeletes(err))
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s with a 1s bound", took)
	}
	if _, err := m.DeleteAll(ctx, nil, "Sometimes", true, PruneOptions{OwnerLabels: flux.Labels("a", ns)}); err == nil {
		t.Error("unknown deletion policy: no error")
	}
}
