package reliability

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// configMaps renders the ConfigMaps cm-<from>..cm-<to-1>, fifty to a file
// under deploy/, each carrying generation in its data.
func configMaps(from, to int, generation string) map[string]string {
	files := map[string]string{}
	for i := from; i < to; i++ {
		file := fmt.Sprintf("deploy/cm-%03d.yaml", i/50*50)
		files[file] += fmt.Sprintf("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  generation: %q\n  index: %q\n",
			cmName(i), generation, fmt.Sprint(i))
	}
	return files
}

func cmName(i int) string { return fmt.Sprintf("cm-%03d", i) }

// source creates a GitRepository for the main branch of repo, served over HTTP.
func source(t *testing.T, c client.Client, ns string, srv *gittest.HTTPServer, repo *gittest.Repo) {
	t.Helper()
	obj := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "repo", Namespace: ns},
		Spec: sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Interval: metav1.Duration{Duration: time.Hour},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"}},
	}
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

// kustomization creates a pruning Kustomization of path into ns.
func kustomization(t *testing.T, c client.Client, ns, name, path string) {
	t.Helper()
	obj := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: time.Hour}, Prune: true, Path: path,
			TargetNamespace: ns, Timeout: &metav1.Duration{Duration: 2 * time.Minute},
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"}},
	}
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

// requestReconcile sets the reconcile.fluxcd.io/requestedAt annotation.
func requestReconcile(t *testing.T, c client.Client, obj client.Object, value string) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, meta.ReconcileRequestAnnotation, value)
	testcluster.Eventually(t, 30*time.Second, "request a reconcile", func() (bool, error) {
		err := c.Patch(context.Background(), obj, client.RawPatch(types.MergePatchType, []byte(patch)))
		return err == nil, err
	})
}

// waitApplied waits until the Kustomization is Ready with revision applied.
func waitApplied(t *testing.T, c client.Client, ns, name, revision string, timeout time.Duration) *kustomizev1.Kustomization {
	t.Helper()
	k := &kustomizev1.Kustomization{}
	err := testcluster.Poll(timeout, func() (bool, error) {
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, k); err != nil {
			return false, err
		}
		return reconcile.IsTrue(k, meta.ReadyCondition) && k.Status.LastAppliedRevision == revision, nil
	})
	if err != nil {
		t.Fatalf("Kustomization %s/%s: waiting for Ready at %s: %v\n%s", ns, name, revision, err, conditionsOf(k.Status.Conditions))
	}
	return k
}

func conditionsOf(conds []metav1.Condition) string {
	var b strings.Builder
	for _, c := range conds {
		fmt.Fprintf(&b, "  %s=%s %s: %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

// owned lists the ConfigMaps of ns that carry the owner labels of the
// Kustomization ns/name, by name, with their UIDs.
func owned(ctx context.Context, c client.Client, ns, name string) (map[string]types.UID, error) {
	var list corev1.ConfigMapList
	if err := c.List(ctx, &list, client.InNamespace(ns),
		client.MatchingLabels{kustomizev1.NameLabel: name, kustomizev1.NamespaceLabel: ns}); err != nil {
		return nil, err
	}
	out := make(map[string]types.UID, len(list.Items))
	for _, cm := range list.Items {
		out[cm.Name] = cm.UID
	}
	return out, nil
}

// countGeneration counts the ConfigMaps of ns whose data says generation.
func countGeneration(ctx context.Context, c client.Client, ns, generation string) (int, error) {
	var list corev1.ConfigMapList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return 0, err
	}
	n := 0
	for _, cm := range list.Items {
		if cm.Data["generation"] == generation {
			n++
		}
	}
	return n, nil
}

// inventoryDrift compares the inventory of k with the owned ConfigMaps:
// orphans carry the owner labels but are missing from the inventory,
// ghosts are in the inventory but not in the cluster.
func inventoryDrift(k *kustomizev1.Kustomization, ownedNow map[string]types.UID) (orphans, ghosts []string) {
	listed := map[string]bool{}
	if k.Status.Inventory != nil {
		for _, e := range k.Status.Inventory.Entries {
			listed[e.ID] = true
			name, ok := configMapFromID(e.ID, k.Namespace)
			if !ok {
				ghosts = append(ghosts, e.ID+" (not a ConfigMap of the namespace)")
				continue
			}
			if _, there := ownedNow[name]; !there {
				ghosts = append(ghosts, e.ID)
			}
		}
	}
	for name := range ownedNow {
		if !listed[k.Namespace+"_"+name+"__ConfigMap"] {
			orphans = append(orphans, name)
		}
	}
	sort.Strings(orphans)
	sort.Strings(ghosts)
	return orphans, ghosts
}

// configMapFromID parses <ns>_<name>__ConfigMap.
func configMapFromID(id, ns string) (string, bool) {
	rest, ok := strings.CutPrefix(id, ns+"_")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "__ConfigMap")
}

// wrongDeletions lists the objects of before that should have stayed
// (keep) but are gone or were recreated (their UID changed).
func wrongDeletions(before, after map[string]types.UID, keep func(name string) bool) []string {
	var out []string
	for name, uid := range before {
		if !keep(name) {
			continue
		}
		if now, ok := after[name]; !ok {
			out = append(out, name+" deleted")
		} else if now != uid {
			out = append(out, name+" recreated")
		}
	}
	sort.Strings(out)
	return out
}

// lost lists the names in want that are not in the cluster.
func lost(want []string, after map[string]types.UID) []string {
	var out []string
	for _, name := range want {
		if _, ok := after[name]; !ok {
			out = append(out, name)
		}
	}
	return out
}

func names(from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, cmName(i))
	}
	return out
}

// head shows at most a few items of a list in a message.
func head(list []string) string {
	if len(list) > 8 {
		return strings.Join(list[:8], ", ") + fmt.Sprintf(" … (%d in all)", len(list))
	}
	return strings.Join(list, ", ")
}
