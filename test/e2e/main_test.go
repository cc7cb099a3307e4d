// Package e2e drives the built binaries — bin/flux, bin/driftless-controller
// and bin/driftless-demo — against a local cluster and real Git servers, as a
// user would.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var (
	env *testcluster.Cluster
	// bins holds the binaries under test, built once into a temporary dir.
	bins struct{ flux, controller, dir string }
)

// TestMain starts a cluster WITHOUT the CRDs: `flux install` puts them there.
func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{NoCRDs: true, Setup: build}, &env)
}

func build(*testcluster.Cluster) (func(), error) {
	root, err := testcluster.RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "driftless-e2e-bin-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags",
		"-X github.com/driftless/driftless/internal/version.Version=v0.0.0-e2e",
		"-o", dir+"/", "./cmd/flux", "./cmd/driftless-controller")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	bins.dir = dir
	bins.flux = filepath.Join(dir, "flux")
	bins.controller = filepath.Join(dir, "driftless-controller")
	return func() { os.RemoveAll(dir) }, nil
}

// flux runs bin/flux against the test cluster and returns its exit code,
// stdout and stderr. stdin may be "".
func flux(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.flux, append([]string{"--kubeconfig", env.Kubeconfig()}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("flux %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errOut.String()
}

// mustFlux runs bin/flux and fails the test unless it exits 0.
func mustFlux(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := flux(t, "", args...)
	if code != 0 {
		t.Fatalf("flux %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// controller is a running bin/driftless-controller process.
type controller struct {
	cmd     *exec.Cmd
	log     string
	storage string
	// exited is closed once the process has ended.
	exited chan struct{}
}

// stop ends the controller as Kubernetes would (SIGTERM, then SIGKILL after
// 30 s) and waits for it; stopping a stopped controller does nothing.
func (c *controller) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// startController runs bin/driftless-controller with the given kubeconfig
// on free loopback ports; the test's cleanup kills it.
func startController(t *testing.T, kubeconfig string, extra ...string) *controller {
	t.Helper()
	c := &controller{log: filepath.Join(t.TempDir(), "controller.log"), storage: freeAddr(t), exited: make(chan struct{})}
	logFile, err := os.Create(c.log)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--kubeconfig", kubeconfig,
		"--storage-path", t.TempDir(), "--image-storage-path", t.TempDir(),
		"--storage-addr", c.storage, "--storage-adv-addr", c.storage,
		"--metrics-addr", freeAddr(t), "--health-addr", freeAddr(t),
		"--events-listen-addr", freeAddr(t), "--receiver-addr", freeAddr(t),
		"--log-encoding", "json", "--min-retry-delay", "200ms", "--max-retry-delay", "5s",
		"--requeue-dependency", "5s",
	}, extra...)
	c.cmd = exec.Command(bins.controller, args...)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); logFile.Close(); close(c.exited) }()
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			b, _ := os.ReadFile(c.log)
			t.Logf("driftless-controller log:\n%s", tail(string(b), 60))
		}
	})
	return c
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates only with
// a token of the given ServiceAccount (TokenRequest API), so a process
// using it has exactly the rights RBAC gives that account.
func serviceAccountKubeconfig(t *testing.T, namespace, name string) string {
	t.Helper()
	expiry := int64(3600)
	tr, err := env.Kube.CoreV1().ServiceAccounts(namespace).CreateToken(context.Background(), name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for %s/%s: %v", namespace, name, err)
	}
	admin, err := clientcmd.LoadFromFile(env.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	cluster := admin.Clusters[admin.Contexts[admin.CurrentContext].Cluster]
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = cluster
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["sa"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: name, Namespace: namespace}
	cfg.CurrentContext = "sa"
	path := filepath.Join(t.TempDir(), "sa.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}
