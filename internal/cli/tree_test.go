package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

// nestedFixture makes, in a fresh namespace, the GitRepository "repo" and
// the Kustomization "parent", which applies the ConfigMap "alpha" and the
// Kustomization "child"; child applies the ConfigMap "gamma" and the
// Namespace-less ClusterRole "reader". It waits until both are Ready.
func nestedFixture(t *testing.T) string {
	t.Helper()
	ns := env.Namespace(t)
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{
		"parent/alpha.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: alpha, namespace: " + ns + "}\ndata: {k: a}\n",
		"parent/child.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n" +
			"metadata: {name: child, namespace: " + ns + "}\n" +
			"spec:\n  interval: 1h\n  path: ./child\n  prune: true\n  targetNamespace: " + ns + "\n" +
			"  sourceRef: {kind: GitRepository, name: repo}\n",
		"child/gamma.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gamma}\ndata: {k: c}\n",
		"child/reader.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: " + ns + "-reader}\nrules: []\n",
	}, "nested kustomizations")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	// The ClusterRole outlives the namespace: remove it at the end.
	t.Cleanup(func() {
		_ = kube.Delete(context.Background(), &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ns + "-reader"}})
	})
	gr := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "repo", Namespace: ns},
		Spec: sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Interval: metav1.Duration{Duration: time.Hour},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"}},
	}
	if err := kube.Create(context.Background(), gr); err != nil {
		t.Fatal(err)
	}
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "parent", Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{
			Interval: metav1.Duration{Duration: time.Hour}, Prune: true, Path: "./parent",
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"},
		},
	}
	if err := kube.Create(context.Background(), ks); err != nil {
		t.Fatal(err)
	}
	waitReadyObject(t, &kustomizev1.Kustomization{}, ns, "parent")
	waitReadyObject(t, &kustomizev1.Kustomization{}, ns, "child")
	return ns
}

func TestTree(t *testing.T) {
	ns := nestedFixture(t)
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"tree/parent.txt", []string{"tree", "kustomization", "parent"}},
		{"tree/parent-compact.txt", []string{"tree", "ks", "parent", "--compact"}},
		{"tree/child.txt", []string{"tree", "ks", "child"}},
		{"tree/parent.yaml", []string{"tree", "ks", "parent", "-o", "yaml"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, _ := mustFlux(t, "", append([]string{"-n", ns}, tc.args...)...)
			checkGolden(t, tc.golden, normalise(out, ns))
		})
	}

	out, _ := mustFlux(t, "", "-n", ns, "tree", "ks", "parent", "-o", "json")
	var root treeNode
	if err := json.Unmarshal([]byte(out), &root); err != nil {
		t.Fatalf("-o json is not JSON: %v\n%s", err, out)
	}
	if root.Resource.String() != "Kustomization/"+ns+"/parent" || len(root.Resources) != 2 {
		t.Fatalf("-o json: want parent with two objects, got %s", out)
	}
	var child *treeNode
	for _, n := range root.Resources {
		if n.Resource.isKustomization() {
			child = n
		}
	}
	if child == nil || len(child.Resources) != 2 {
		t.Errorf("-o json: want the child Kustomization with its two objects, got %s", out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tree", "ks"}, "give the name of one Kustomization"},
		{[]string{"tree", "ks", "nope"}, `Kustomization "nope" not found in namespace "` + ns + `"`},
		{[]string{"tree", "ks", "parent", "-o", "wide"}, `unknown output format "wide"`},
	} {
		if _, _, err := runFlux(t, "", append([]string{"-n", ns}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want error containing %q, got %v", tc.args, tc.want, err)
		}
	}
}

func TestParseInventoryID(t *testing.T) {
	o, err := parseInventoryID("_" + "reader_rbac.authorization.k8s.io_ClusterRole")
	if err != nil || o.String() != "ClusterRole/reader" {
		t.Errorf("cluster-scoped id: %v %v", o, err)
	}
	// The applier writes a ':' in a name as '__'.
	o, err = parseInventoryID("_system__controller__reader_rbac.authorization.k8s.io_ClusterRole")
	if err != nil || o.String() != "ClusterRole/system:controller:reader" {
		t.Errorf("name with colons: %v %v", o, err)
	}
	if _, err := parseInventoryID("ns_name_Kind"); err == nil || !strings.Contains(err.Error(), "want <namespace>_<name>_<group>_<kind>") {
		t.Errorf("malformed id: %v", err)
	}
}
