package cli

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var uiURL = regexp.MustCompile(`Open (http://127\.0\.0\.1:[0-9]+/)\?token=([A-Za-z0-9_-]+)`)

// TestUIServesTheClusterLocally runs `flux ui --port 0` in-process: the
// printed one-time URL gives a session whose overview shows a
// Kustomization of the cluster; the URL does not work twice, a page
// without the session or from another Host is refused, and cancelling the
// context stops the command cleanly.
func TestUIServesTheClusterLocally(t *testing.T) {
	ns := env.Namespace(t)
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "ui-shown", Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{
			Interval: metav1.Duration{Duration: time.Hour}, Path: "./deploy", Prune: true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "nothere"},
		},
	}
	if err := kube.Create(context.Background(), ks); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	f := NewFactory(strings.NewReader(""), &out, &errOut)
	f.Getenv = func(string) string { return "" }
	root := NewRootCommand("v0.0.0-test", f)
	root.SetArgs([]string{"--kubeconfig", env.Kubeconfig(), "ui", "--port", "0", "--namespaces", ns})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	var m []string
	testcluster.Eventually(t, time.Minute, "flux ui to print its URL", func() (bool, error) {
		select {
		case err := <-done:
			t.Fatalf("flux ui ended early: %v\n%s", err, errOut.String())
		default:
		}
		m = uiURL.FindStringSubmatch(out.String())
		return m != nil, nil
	})
	base, token := m[1], m[2]

	// Without the token: 403, naming the printed URL.
	resp, body := uiGet(t, http.DefaultClient, base, "")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "one-time token that `flux ui` printed") {
		t.Errorf("GET / without a session: %d\n%s", resp.StatusCode, body)
	}
	// Another Host: 403, token or not.
	resp, _ = uiGet(t, http.DefaultClient, base+"?token="+token, "evil.example")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("Host evil.example: %d, want 403", resp.StatusCode)
	}

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, body = uiGet(t, browser, base+"?token="+token, "")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.RawQuery != "" {
		t.Fatalf("one-time URL: %d at %s, want 200 at the URL without the token\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	if !strings.Contains(body, "ui-shown") || !strings.Contains(body, ns) {
		t.Errorf("the overview does not show Kustomization %s/ui-shown:\n%s", ns, body)
	}
	if !strings.Contains(body, "showing namespace "+ns) {
		t.Errorf("the overview does not say it is limited to %s", ns)
	}
	page := "/o/kustomize.toolkit.fluxcd.io/Kustomization/" + ns + "/ui-shown"
	if resp, body := uiGet(t, browser, strings.TrimSuffix(base, "/")+page, ""); resp.StatusCode != http.StatusOK || !strings.Contains(body, "nothere") {
		t.Errorf("object page with the session: %d\n%s", resp.StatusCode, body)
	}
	// The token is spent: another browser cannot use it.
	if resp, _ := uiGet(t, http.DefaultClient, base+"?token="+token, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("token reused: %d, want 403", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("flux ui after cancel: %v\n%s", err, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("flux ui did not stop within 30s of cancel")
	}
}

// uiGet gets u with c (following redirects), with Host set when host is
// not "", and returns the response and its body.
func uiGet(t *testing.T, c *http.Client, u, host string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}
