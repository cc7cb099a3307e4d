package reliability

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestFieldManagerIntrudes: another field manager ("intruder") takes
// .data.owner of a ConfigMap the Kustomization applied, by a server-side
// apply with force. The next reconcile takes the field back, as Flux does
// (its apply forces ownership), the intruder no longer owns it, and a
// Normal event on the Kustomization reports "ConfigMap/<ns>/x configured".
func TestFieldManagerIntrudes(t *testing.T) {
	r := results.start(t, row{
		Area: areaFault, Case: "Another field manager (server-side apply, force) takes a field the Kustomization owns",
		Expected: "the next reconcile takes the field back (Flux forces ownership); an event on the Kustomization reports 'ConfigMap/<ns>/x configured'",
	})
	ctx := context.Background()
	ns := env.Namespace(t)
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{
		"deploy/x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {owner: git, level: \"1\"}\n",
	}, "x")
	rev := "main@sha1:" + repo.Head("main")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	source(t, kube, ns, srv, repo)
	kustomization(t, kube, ns, "app", "./deploy")
	ctrl := startController(t, procOptions{kubeconfig: env.Kubeconfig()})
	waitApplied(t, kube, ns, "app", rev, time.Minute)
	uid := uidOf(t, ns, "x")

	intrusion := fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":%q},"data":{"owner":"intruder"}}`, ns)
	force := true
	cm, err := env.Kube.CoreV1().ConfigMaps(ns).Patch(ctx, "x", types.ApplyPatchType, []byte(intrusion),
		metav1.PatchOptions{FieldManager: "intruder", Force: &force})
	if err != nil {
		t.Fatalf("server-side apply as intruder: %v", err)
	}
	if cm.Data["owner"] != "intruder" || !ownsField(cm, "intruder", "f:owner") {
		t.Fatalf("the intruder did not take .data.owner: data %v", cm.Data)
	}

	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}}
	asked := time.Now()
	requestReconcile(t, kube, ks, "intruded")
	var got *corev1.ConfigMap
	testcluster.Eventually(t, time.Minute, "the field taken back", func() (bool, error) {
		got, err = env.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "x", metav1.GetOptions{})
		return err == nil && got.Data["owner"] == "git", err
	})
	r.Recovery = time.Since(asked)
	if ownsField(got, "intruder", "f:owner") {
		t.Errorf("the intruder still owns .data.owner after the reconcile: %s", managers(got))
	}
	if !ownsField(got, kustomizev1.FieldManager, "f:owner") {
		t.Errorf("%s does not own .data.owner after the reconcile: %s", kustomizev1.FieldManager, managers(got))
	}
	if got.Data["level"] != "1" {
		t.Errorf("data %v, want level 1 kept", got.Data)
	}
	if string(got.UID) != uid {
		r.Wrong = 1
		t.Errorf("x was recreated to take the field back (UID %s, was %s)", got.UID, uid)
	}

	want := fmt.Sprintf("ConfigMap/%s/x configured", ns)
	var said string
	testcluster.Eventually(t, 30*time.Second, "an event saying "+want, func() (bool, error) {
		list, err := env.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=app"})
		if err != nil {
			return false, err
		}
		for _, e := range list.Items {
			if e.InvolvedObject.Kind == kustomizev1.KustomizationKind && strings.Contains(e.Message, want) {
				said = e.Type + " " + e.Reason + " '" + strings.ReplaceAll(e.Message, ns, "<ns>") + "'"
				return true, nil
			}
		}
		return false, nil
	})
	ctrl.running(t)
	r.Observed = fmt.Sprintf("intruder owned .data.owner; after the reconcile: value 'git' again, owned by %s and no longer by intruder, same UID; event %s",
		kustomizev1.FieldManager, said)
}

// ownsField tells whether manager's managed fields name field (such as
// "f:owner") under f:data.
func ownsField(cm *corev1.ConfigMap, manager, field string) bool {
	for _, m := range cm.ManagedFields {
		if m.Manager == manager && m.FieldsV1 != nil && strings.Contains(string(m.FieldsV1.Raw), `"f:data":{`) &&
			strings.Contains(string(m.FieldsV1.Raw), `"`+field+`"`) {
			return true
		}
	}
	return false
}

func managers(cm *corev1.ConfigMap) string {
	var out []string
	for _, m := range cm.ManagedFields {
		raw := ""
		if m.FieldsV1 != nil {
			raw = string(m.FieldsV1.Raw)
		}
		out = append(out, m.Manager+" "+string(m.Operation)+" "+raw)
	}
	return strings.Join(out, "; ")
}
