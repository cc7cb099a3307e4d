package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// kubeconfigWithNamespace writes a kubeconfig whose context names the
// namespace ns; no cluster answers at its server.
func kubeconfigWithNamespace(t *testing.T, ns string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kubeconfig")
	kc := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: t}
contexts:
- name: ctx
  context: {cluster: c, user: u, namespace: ` + ns + `}
current-context: ctx
`
	if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// parseRoot parses args with the flags of the root and returns the factory.
func parseRoot(t *testing.T, env map[string]string, args ...string) (*Factory, error) {
	t.Helper()
	var out bytes.Buffer
	f := NewFactory(strings.NewReader(""), &out, &out)
	f.Getenv = func(k string) string { return env[k] }
	root := NewRootCommand("v0.0.0-test", f)
	root.SetArgs(append(args, "version", "--client"))
	return f, root.Execute()
}

func TestKubeAPIRateLimitFlags(t *testing.T) {
	kc := kubeconfigWithNamespace(t, "apps")
	for _, tc := range []struct {
		args      []string
		qps       float32
		burst     int
		wantError string
	}{
		{args: nil, qps: 50, burst: 300},
		{args: []string{"--kube-api-qps", "12.5", "--kube-api-burst", "40"}, qps: 12.5, burst: 40},
		{args: []string{"--kube-api-qps=0"}, wantError: "invalid --kube-api-qps 0"},
		{args: []string{"--kube-api-burst=-1"}, wantError: "invalid --kube-api-burst -1"},
	} {
		f, err := parseRoot(t, nil, append([]string{"--kubeconfig", kc}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		cfg, err := f.RESTConfig()
		if tc.wantError != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantError) {
				t.Errorf("%v: want an error with %q, got %v", tc.args, tc.wantError, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if cfg.QPS != tc.qps || cfg.Burst != tc.burst {
			t.Errorf("%v: rest.Config has QPS %v burst %d, want %v and %d", tc.args, cfg.QPS, cfg.Burst, tc.qps, tc.burst)
		}
	}
	if _, err := parseRoot(t, nil, "--kube-api-qps", "fast"); err == nil || !strings.Contains(err.Error(), "--kube-api-qps") {
		t.Errorf("--kube-api-qps fast: want an error naming the flag, got %v", err)
	}
}

// TestNsFollowsKubeContext: Driftless follows the kube context's namespace
// by default; --ns-follows-kube-context=false restores Flux's default
// (flux-system), and wins over FLUX_NS_FOLLOWS_KUBE_CONTEXT, which turns it
// on as in Flux; -n wins over everything.
func TestNsFollowsKubeContext(t *testing.T) {
	kc := kubeconfigWithNamespace(t, "apps")
	on := map[string]string{nsFollowsKubeContextEnv: "true"}
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{args: nil, want: "apps"},
		{args: []string{"--ns-follows-kube-context"}, want: "apps"},
		{args: []string{"--ns-follows-kube-context=false"}, want: "flux-system"},
		{env: on, args: nil, want: "apps"},
		{env: on, args: []string{"--ns-follows-kube-context=false"}, want: "flux-system"},
		{args: []string{"--ns-follows-kube-context=false", "-n", "team"}, want: "team"},
	} {
		f, err := parseRoot(t, tc.env, append([]string{"--kubeconfig", kc}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		ns, err := f.Namespace()
		if err != nil || ns != tc.want {
			t.Errorf("env %v, %v: namespace %q (%v), want %q", tc.env, tc.args, ns, err, tc.want)
		}
	}
	if _, err := parseRoot(t, nil, "--ns-follows-kube-context=maybe"); err == nil || !strings.Contains(err.Error(), "ns-follows-kube-context") {
		t.Errorf("--ns-follows-kube-context=maybe: want an error naming the flag, got %v", err)
	}
}

// TestVerboseGet: --verbose is accepted everywhere, and flux get shows the
// wide columns with it.
func TestVerboseGet(t *testing.T) {
	ns := env.Namespace(t)
	gr := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "verbose", Namespace: ns},
		Spec: sourcev1.GitRepositorySpec{URL: "https://example.com/repo.git", Suspend: true,
			Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := kube.Create(context.Background(), gr); err != nil {
		t.Fatal(err)
	}
	plain, _, err := runFlux(t, "", "get", "sources", "git", "-n", ns)
	if err != nil {
		t.Fatal(err)
	}
	verbose, _, err := runFlux(t, "", "--verbose", "get", "sources", "git", "-n", ns)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain, "URL") || !strings.Contains(verbose, "URL") || !strings.Contains(verbose, "https://example.com/repo.git") {
		t.Errorf("want the wide columns with --verbose only:\nplain:\n%s\nverbose:\n%s", plain, verbose)
	}
	if _, _, err := runFlux(t, "", "--verbose", "version", "--client"); err != nil {
		t.Errorf("--verbose version --client: %v", err)
	}
}
