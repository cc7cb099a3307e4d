package helmrelease_test

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// A kubeconfig whose server accepts connections and never answers fails
// its HelmRelease within spec.timeout instead of holding a worker, and a
// release of the same namespace on the local cluster goes on.
func TestUnansweringRemoteClusterTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
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
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	kubeconfigSecret(t, ns, "black-hole", "value", []byte(`apiVersion: v1
kind: Config
current-context: remote
contexts: [{name: remote, context: {cluster: remote, user: tenant}}]
clusters: [{name: remote, cluster: {server: 'http://`+l.Addr().String()+`'}}]
users: [{name: tenant, user: {token: t}}]
`))
	hr := release(t, ns, "lost", "app", "", viaKubeconfig("black-hole"), func(hr *helmv2.HelmRelease) {
		hr.Spec.Timeout = &metav1.Duration{Duration: 3 * time.Second}
	})
	local := release(t, ns, "local", "app", "")
	controllertest.WaitReady(t, kube, local)
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "Ready=False", func(o *helmv2.HelmRelease) bool {
		c := reconcile.Get(o, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason != meta.ProgressingReason && c.Reason != meta.DependencyNotReadyReason
	})
	msg := condition(got, meta.ReadyCondition).Message
	if !strings.Contains(msg, "Timeout") && !strings.Contains(msg, "timed out") && !strings.Contains(msg, "deadline") {
		t.Errorf("Ready message %q does not say that the cluster did not answer in time", msg)
	}
}
