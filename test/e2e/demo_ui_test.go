package e2e

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/testkit/browser"
)

// screenshotsDir, when set (make screenshots), is where checkDemoUI copies
// the demo fleet's pictures for the README: docs/images.
var screenshotsDir = os.Getenv("DRIFTLESS_SCREENSHOTS_DIR")

var demoUIURL = regexp.MustCompile(`(?m)^  (http://127\.0\.0\.1:\d+)/$`)

// checkDemoUI opens the web UI the running demo printed, in
// chromium-headless-shell, logs in with the token it wrote, and checks that
// the overview shows every Kustomization of the demo fleet and its
// GitRepository Ready, that the filter narrows the rows and its URL reloads
// to the same view, and that the graph draws the fleet; every request
// stays on the UI's origin, with no CSP violation.
func checkDemoUI(t *testing.T, out, dataDir string) {
	t.Helper()
	m := demoUIURL.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the demo printed no web UI URL:\n%s", out)
	}
	origin := m[1]
	token, err := os.ReadFile(filepath.Join(dataDir, "ui-token"))
	if err != nil {
		t.Fatalf("the demo wrote no UI token: %v", err)
	}
	b := browser.Start(t)
	login := b.Open(t, origin+"/")
	login.Type("#token", strings.TrimSpace(string(token)))
	login.Submit("#token")
	if h := login.Text("h1"); h != "Overview" {
		t.Fatalf("after logging in with the demo's token: h1 %q\n%s", h, login.Text("main"))
	}

	p := b.Open(t, origin+"/")
	rowState := func(kind, name string) string {
		return browser.Evaluate[string](p, `(() => { for (const r of document.querySelectorAll('table.objects tbody tr')) {
  const c = r.querySelectorAll('td'); if (c.length > 3 && c[0].innerText.trim() === `+jsQuote(kind)+` && c[2].innerText.trim() === `+jsQuote(name)+`) return c[3].innerText; }
  return 'no row'; })()`)
	}
	for _, name := range demoKustomizations {
		if got := rowState("Kustomization", name); !strings.HasPrefix(strings.TrimSpace(got), "✔ Ready") {
			t.Errorf("the overview's Kustomization %s says %q, want Ready", name, got)
		}
	}
	if got := rowState("GitRepository", "flux-system"); !strings.HasPrefix(strings.TrimSpace(got), "✔ Ready") {
		t.Errorf("the overview's GitRepository flux-system says %q, want Ready", got)
	}
	shoot(t, p, "overview", "ui-overview.png")

	p.Type("form.filters input[name=q]", "infra")
	p.Submit("form.filters input[name=q]")
	filtered := p.URL()
	names := func() string {
		return browser.Evaluate[string](p, `Array.from(document.querySelectorAll('table.objects tbody td[data-label=Name]')).map(c => c.innerText.trim()).join(',')`)
	}
	got := names()
	if !strings.Contains(filtered, "q=infra") || got != "infra-configs,infra-controllers" && got != "infra-controllers,infra-configs" {
		t.Errorf("filtered by infra: URL %s, rows %q", filtered, got)
	}
	p.Reload()
	if again := names(); again != got || p.URL() != filtered {
		t.Errorf("the filtered URL reloads to rows %q at %s, want %q at %s", again, p.URL(), got, filtered)
	}

	p.Navigate(origin + "/o/kustomize.toolkit.fluxcd.io/Kustomization/flux-system/apps")
	if s := p.Text("#state"); !strings.Contains(s, "Ready") {
		t.Errorf("the apps Kustomization's page says:\n%s", s)
	}
	shoot(t, p, "kustomization", "ui-kustomization.png")
	p.Navigate(origin + "/graph")
	if n := p.Count("svg a"); n < len(demoKustomizations)+1 {
		t.Errorf("the graph links %d nodes, want the fleet's %d Kustomizations and its source", n, len(demoKustomizations))
	}
	shoot(t, p, "graph", "ui-graph.png")
	p.CheckClean(origin)
}

// shoot saves the page's screenshots as test artifacts and, under make
// screenshots, copies the wide one to the README's pictures.
func shoot(t *testing.T, p *browser.Page, name, readme string) {
	t.Helper()
	paths := p.Screenshots(name)
	if screenshotsDir == "" || len(paths) == 0 {
		return
	}
	if err := copyFile(paths[0], filepath.Join(screenshotsDir, readme)); err != nil {
		t.Fatalf("copy the screenshot for the README: %v", err)
	}
	t.Logf("wrote %s", filepath.Join(screenshotsDir, readme))
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
