package kustomization_test

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// tenant gives ns a ServiceAccount that is admin of ns and nothing else,
// as `flux create tenant` does.
func tenant(t *testing.T, ns, sa string) {
	t.Helper()
	ctx := context.Background()
	if err := kube.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns}}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "admin"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa, Namespace: ns}},
	}
	if err := kube.Create(ctx, rb); err != nil {
		t.Fatal(err)
	}
}

// configMapRepo is a GitRepository "repo" in ns serving one ConfigMap.
func configMapRepo(t *testing.T, ns, name string) {
	t.Helper()
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + ns + "}\ndata: {a: b}\n"}, "init")
	gitSource(t, ns, "repo", repo)
}

// recordingServer is an HTTPS server that records every Authorization
// header it receives and answers 401.
type recordingServer struct {
	*httptest.Server
	mu      sync.Mutex
	headers []string
}

func newRecordingServer(t *testing.T) *recordingServer {
	s := &recordingServer{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get("Authorization"); h != "" {
			s.mu.Lock()
			s.headers = append(s.headers, h)
			s.mu.Unlock()
		}
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *recordingServer) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.headers...)
}

// kubeconfig points at the server, trusting its certificate, with the
// given user lines.
func (s *recordingServer) kubeconfig(user string) string {
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	return `apiVersion: v1
kind: Config
current-context: remote
contexts: [{name: remote, context: {cluster: remote, user: tenant}}]
clusters:
- name: remote
  cluster: {server: '` + s.URL + `', certificate-authority-data: ` + base64.StdEncoding.EncodeToString(ca) + `}
users:
- name: tenant
  user:
` + user + "\n"
}

func kubeconfigKustomization(t *testing.T, ns, name, kubeconfig string) {
	t.Helper()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: map[string]string{"value": kubeconfig}}
	if err := kube.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	applyYAML(t, ns, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: `+name+`}
spec:
  interval: 1h
  timeout: 10s
  prune: true
  sourceRef: {kind: GitRepository, name: repo}
  kubeConfig: {secretRef: {name: `+name+`}}
`)
}

// A tenant's kubeconfig that names a token file of the controller's (its
// ServiceAccount token, say) and a server of the tenant's: the controller
// refuses it, names the field, and sends nothing there. The same
// kubeconfig with an inline token reaches the server, which shows that
// the server would have seen a token.
func TestKubeconfigTokenFileIsNeverRead(t *testing.T) {
	ns := env.Namespace(t)
	configMapRepo(t, ns, "remote-cm")
	srv := newRecordingServer(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("the-controllers-own-token"), 0o600); err != nil {
		t.Fatal(err)
	}

	kubeconfigKustomization(t, ns, "token-file", srv.kubeconfig("    tokenFile: "+tokenFile))
	k := waitKS(t, ns, "token-file", "Stalled", func(k *kustomizev1.Kustomization) bool {
		return reconcile.IsTrue(k, meta.StalledCondition)
	})
	if msg := reconcile.Get(k, meta.ReadyCondition).Message; !strings.Contains(msg, "tokenFile") || !strings.Contains(msg, "token-file") {
		t.Errorf("Ready message %q does not name the field and the Secret", msg)
	}
	controllertest.WaitEvent(t, env.Kube, ksNamed(ns, "token-file"), "Warning", "", "tokenFile")
	if got := srv.received(); len(got) != 0 {
		t.Fatalf("the tenant's server received credentials: %q", got)
	}

	kubeconfigKustomization(t, ns, "inline", srv.kubeconfig("    token: the-tenants-token"))
	testcluster.Eventually(t, time.Minute, "the inline token at the tenant's server", func() (bool, error) {
		got := srv.received()
		for _, h := range got {
			if h != "Bearer the-tenants-token" {
				return false, nil
			}
		}
		return len(got) > 0, nil
	})
}

// A kubeconfig whose server accepts connections and never answers fails
// its own Kustomization within its timeout, while another tenant's
// Kustomization is applied as usual.
func TestUnansweringRemoteClusterTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	slow, other := env.Namespace(t), env.Namespace(t)
	configMapRepo(t, slow, "never")
	kubeconfigKustomization(t, slow, "black-hole", `apiVersion: v1
kind: Config
current-context: remote
contexts: [{name: remote, context: {cluster: remote, user: tenant}}]
clusters: [{name: remote, cluster: {server: 'http://`+l.Addr().String()+`'}}]
users: [{name: tenant, user: {token: t}}]
`)
	configMapRepo(t, other, "fine")
	applyYAML(t, other, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: fine}
spec: {interval: 1h, prune: true, sourceRef: {kind: GitRepository, name: repo}}
`)
	waitReady(t, other, "fine")
	k := waitKS(t, slow, "black-hole", "Ready=False", func(k *kustomizev1.Kustomization) bool {
		c := reconcile.Get(k, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse
	})
	msg := reconcile.Get(k, meta.ReadyCondition).Message
	if !strings.Contains(msg, "timed out") && !strings.Contains(msg, "Timeout") && !strings.Contains(msg, "deadline") {
		t.Errorf("Ready message %q does not say that the cluster did not answer in time", msg)
	}
}

// waitHealthFailed waits for Ready=False HealthCheckFailed, failing the
// test at once should the Kustomization become Ready instead.
func waitHealthFailed(t *testing.T, ns, name string) *kustomizev1.Kustomization {
	t.Helper()
	k := waitKS(t, ns, name, "Ready=False HealthCheckFailed, or Ready", func(k *kustomizev1.Kustomization) bool {
		c := reconcile.Get(k, meta.ReadyCondition)
		return c != nil && (c.Status == metav1.ConditionTrue || c.Reason == meta.HealthCheckFailedReason)
	})
	if reconcile.IsTrue(k, meta.ReadyCondition) {
		t.Fatalf("Ready: %s", controllertest.Describe(k))
	}
	return k
}

// A tenant health-checks a Secret in another namespace: the check reads as
// the tenant's ServiceAccount, which may not, so the Kustomization fails
// with forbidden instead of reporting on (and so reading) the Secret.
func TestHealthCheckReadsAsTheTenant(t *testing.T) {
	ns, vault := env.Namespace(t), env.Namespace(t)
	tenant(t, ns, "tenant")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "keys", Namespace: vault}, StringData: map[string]string{"k": "v"}}
	if err := kube.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	configMapRepo(t, ns, "app")
	applyYAML(t, ns, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: peek}
spec:
  interval: 1h
  timeout: 20s
  prune: true
  serviceAccountName: tenant
  sourceRef: {kind: GitRepository, name: repo}
  healthChecks: [{apiVersion: v1, kind: Secret, name: keys, namespace: `+vault+`}]
`)
	k := waitHealthFailed(t, ns, "peek")
	if msg := reconcile.Get(k, meta.ReadyCondition).Message; !strings.Contains(msg, "forbidden") {
		t.Errorf("Ready message %q does not say forbidden", msg)
	}
}

// Under --no-cross-namespace-refs a health check of another namespace is
// refused before anything is read.
func TestLockdownRefusesCrossNamespaceHealthChecks(t *testing.T) {
	ns := env.Namespace(t)
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n"}, "init")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	applyYAML(t, ns, `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: repo, labels: {`+shardLabel+`: lockdown}}
spec: {interval: 1h, url: '`+srv.RepoURL(repo.Name())+`', ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: peek, labels: {`+shardLabel+`: lockdown}}
spec:
  interval: 1h
  prune: true
  sourceRef: {kind: GitRepository, name: repo}
  healthChecks: [{apiVersion: v1, kind: Secret, name: anything, namespace: kube-system}]
`)
	k := waitKS(t, ns, "peek", "Stalled AccessDenied", func(k *kustomizev1.Kustomization) bool {
		c := reconcile.Get(k, meta.StalledCondition)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == meta.AccessDeniedReason
	})
	if msg := reconcile.Get(k, meta.ReadyCondition).Message; !strings.Contains(msg, "Secret kube-system/anything") {
		t.Errorf("Ready message %q does not name the health check", msg)
	}
}

// A healthCheckExprs expression over a Secret's data that returns the data
// itself: the message says the expression is wrong, never what it read.
func TestHealthCheckExpressionNeverEchoesValues(t *testing.T) {
	ns := env.Namespace(t)
	const value = "hunter2-very-secret"
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{
		"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: " + ns + "}\nstringData: {password: " + value + "}\n",
	}, "init")
	gitSource(t, ns, "repo", repo)
	applyYAML(t, ns, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: leak}
spec:
  interval: 1h
  timeout: 20s
  prune: true
  wait: true
  sourceRef: {kind: GitRepository, name: repo}
  healthCheckExprs:
  - apiVersion: v1
    kind: Secret
    current: data.password
`)
	k := waitHealthFailed(t, ns, "leak")
	encoded := base64.StdEncoding.EncodeToString([]byte(value))
	var texts []string
	for _, c := range k.Status.Conditions {
		texts = append(texts, c.Message)
	}
	for _, e := range controllertest.Events(t, env.Kube, ksNamed(ns, "leak")) {
		texts = append(texts, e.Message)
	}
	for _, text := range texts {
		if strings.Contains(text, value) || strings.Contains(text, encoded) || strings.Contains(text, encoded[:16]) {
			t.Errorf("a message carries the Secret's value: %q", text)
		}
	}
	if msg := reconcile.Get(k, meta.ReadyCondition).Message; !strings.Contains(msg, "data.password") {
		t.Errorf("Ready message %q does not name the expression", msg)
	}
}

// Deleting a suspended Kustomization deletes nothing it applied, and says so.
func TestDeletingASuspendedKustomizationOrphans(t *testing.T) {
	ns := env.Namespace(t)
	configMapRepo(t, ns, "handed-over")
	applyYAML(t, ns, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: old-name}
spec: {interval: 1h, prune: true, sourceRef: {kind: GitRepository, name: repo}}
`)
	waitReady(t, ns, "old-name")
	k := getKS(t, ns, "old-name")
	patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"suspend":true}}`))
	if err := kube.Patch(context.Background(), k, patch); err != nil {
		t.Fatal(err)
	}
	if err := kube.Delete(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, time.Minute, "the Kustomization gone", func() (bool, error) {
		err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "old-name"}, &kustomizev1.Kustomization{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "handed-over"}, &corev1.ConfigMap{}); err != nil {
		t.Fatalf("the suspended Kustomization's ConfigMap was deleted: %v", err)
	}
	controllertest.WaitEvent(t, env.Kube, ksNamed(ns, "old-name"), "Normal", "", "the Kustomization is suspended")
}

// A tenant's namespace is deleted after its ServiceAccount and RoleBinding
// went (the namespace controller deletes them in no particular order): the
// pruning Kustomization's finalizer cannot delete anything as the tenant,
// orphans, and lets the namespace go.
func TestTenantNamespaceDeletionIsNotBlocked(t *testing.T) {
	const ns = "tenant-gone"
	namespace(t, ns)
	tenant(t, ns, "tenant")
	configMapRepo(t, ns, "tenant-app")
	applyYAML(t, ns, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app}
spec: {interval: 1h, prune: true, serviceAccountName: tenant, sourceRef: {kind: GitRepository, name: repo}}
`)
	waitReady(t, ns, "app")
	ctx := context.Background()
	if err := kube.Delete(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "tenant", Namespace: ns}}); err != nil {
		t.Fatal(err)
	}
	if err := kube.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, 2*time.Minute, "namespace "+ns+" gone", func() (bool, error) {
		_, err := env.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
}
