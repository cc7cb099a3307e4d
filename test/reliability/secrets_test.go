package reliability

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/sops"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// secretCase is one failure the Secrets of a path go through.
type secretCase struct {
	name   string
	reason string // the Ready=False reason it must reach
	extra  map[string]string
	suffix string // appended to both secret values in the manifests
	spec   func(*kustomizev1.KustomizationSpec)
}

// TestSecretValuesNeverLeak applies a plain Secret (stringData with a
// distinctive value) and a SOPS-encrypted one under three failures: an
// invalid object in the same build (the server-side dry-run fails), a
// health check timing out, and a substitution error inside the secret
// values themselves. Every Event of the namespace, every Kustomization's
// status and the controller's debug log are scanned for the two values,
// in plain text and in base64: 0 occurrences.
func TestSecretValuesNeverLeak(t *testing.T) {
	r := results.start(t, row{
		Area: areaBadInput, Case: "A Secret's value (plain and SOPS) under a failed dry-run, a health-check timeout and a substitution error, on the live controller",
		Expected: "the values appear in no Event, condition or status, and not in the controller's debug log",
	})
	ctx := context.Background()
	ns := env.Namespace(t)
	plain, sealed := "plain-s3cr3t-"+randomHex(t), "sops-s3cr3t-"+randomHex(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	cases := []secretCase{
		{name: "dry-run", reason: meta.ReconciliationFailedReason,
			extra: map[string]string{"invalid.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_A_Valid_Name}\ndata: {k: v}\n"}},
		// A health check on a Deployment that never appears times out.
		{name: "health", reason: meta.HealthCheckFailedReason, spec: func(s *kustomizev1.KustomizationSpec) {
			s.Timeout = &metav1.Duration{Duration: 5 * time.Second}
			s.HealthChecks = []meta.NamespacedObjectKindReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "never-there", Namespace: ns}}
		}},
		{name: "substitution", reason: meta.BuildFailedReason, suffix: "-${missing_var}",
			spec: func(s *kustomizev1.KustomizationSpec) {
				s.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"defined": "yes"}}
			}},
	}
	files := map[string]string{}
	for _, c := range cases {
		files[c.name+"/plain.yaml"] = "apiVersion: v1\nkind: Secret\nmetadata: {name: plain-" + c.name + "}\n" +
			"stringData:\n  password: \"" + plain + c.suffix + "\"\n"
		enc, err := sops.EncryptYAML([]byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-"+c.name+
			"\nstringData:\n  token: \""+sealed+c.suffix+"\"\n"), []string{id.Recipient().String()}, "^(data|stringData)$")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(enc), sealed) {
			t.Fatal("the encrypted manifest holds the value in clear")
		}
		files[c.name+"/sops.yaml"] = string(enc)
		for f, body := range c.extra {
			files[c.name+"/"+f] = body
		}
	}
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", files, "secrets and failures")
	rev := "main@sha1:" + repo.Head("main")
	key := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sops-age", Namespace: ns},
		StringData: map[string]string{"identity.agekey": id.String() + "\n"}}
	if err := kube.Create(ctx, key); err != nil {
		t.Fatal(err)
	}
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	source(t, kube, ns, srv, repo)
	for _, c := range cases {
		k := &kustomizev1.Kustomization{
			ObjectMeta: metav1.ObjectMeta{Name: c.name, Namespace: ns},
			Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: time.Hour}, Prune: true, Path: "./" + c.name,
				TargetNamespace: ns, Timeout: &metav1.Duration{Duration: time.Minute},
				SourceRef:  kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"},
				Decryption: &kustomizev1.Decryption{Provider: "sops", SecretRef: &meta.LocalObjectReference{Name: "sops-age"}}},
		}
		if c.spec != nil {
			c.spec(&k.Spec)
		}
		if err := kube.Create(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	ctrl := startController(t, procOptions{kubeconfig: env.Kubeconfig(), extra: []string{"--log-level", "debug"}})

	var said []string
	for _, c := range cases {
		k := &kustomizev1.Kustomization{}
		var cond *metav1.Condition
		testcluster.Eventually(t, 2*time.Minute, c.name+": Ready=False "+c.reason, func() (bool, error) {
			if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: c.name}, k); err != nil {
				return false, err
			}
			cond = reconcile.Get(k, meta.ReadyCondition)
			return k.Status.LastAttemptedRevision == rev && cond != nil && cond.Status == metav1.ConditionFalse && cond.Reason == c.reason, nil
		})
		t.Logf("%s: Ready=False %s: %s", c.name, cond.Reason, cond.Message)
		said = append(said, c.name+" "+cond.Reason)
		testcluster.Eventually(t, 30*time.Second, c.name+": a Warning event", func() (bool, error) {
			list, err := env.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + c.name})
			if err != nil {
				return false, err
			}
			for _, e := range list.Items {
				if e.Type == corev1.EventTypeWarning {
					return true, nil
				}
			}
			return false, nil
		})
	}
	// The health case applied both Secrets: the values went through the
	// apply path, and the SOPS one was decrypted.
	for name, want := range map[string]string{"plain-health": plain, "sops-health": sealed} {
		var s corev1.Secret
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
			t.Errorf("Secret %s was not applied by the health case: %v", name, err)
			continue
		}
		got := string(s.Data["password"]) + string(s.Data["token"])
		if got != want {
			t.Errorf("Secret %s holds %q, want the distinctive value", name, got)
		}
	}
	ctrl.running(t)

	haystacks := map[string]string{}
	events, err := env.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		b, _ := json.Marshal(e)
		haystacks["event "+e.InvolvedObject.Kind+"/"+e.InvolvedObject.Name+" "+e.Reason] += string(b) + "\n"
	}
	var list kustomizev1.KustomizationList
	if err := kube.List(ctx, &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, k := range list.Items {
		b, _ := json.Marshal(k.Status)
		haystacks["status of Kustomization "+k.Name] = string(b)
	}
	logs, err := os.ReadFile(ctrl.log)
	if err != nil {
		t.Fatal(err)
	}
	haystacks["controller log"] = string(logs)
	needles := map[string]string{"plain value": plain, "SOPS value": sealed,
		"plain value in base64": base64.StdEncoding.EncodeToString([]byte(plain)),
		"SOPS value in base64":  base64.StdEncoding.EncodeToString([]byte(sealed))}
	found := 0
	for where, text := range haystacks {
		for what, needle := range needles {
			if n := strings.Count(text, needle); n > 0 {
				found += n
				t.Errorf("the %s appears %d times in the %s", what, n, where)
			}
		}
	}
	r.Observed = fmt.Sprintf("%s; scanned %d Events, %d Kustomization statuses and %d KiB of debug log for both values "+
		"(plain and base64): %d occurrences; the health case applied both Secrets with their values",
		strings.Join(said, ", "), len(events.Items), len(list.Items), len(logs)>>10, found)
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
