package cli

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/driftless/driftless/internal/manager"
)

// controllerLogLines returns lines written by the controller's own logger
// (manager.NewLogger, JSON, debug level), with the keys controller-runtime
// adds for a reconciler.
func controllerLogLines(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// manager.NewLogger writes to os.Stderr as it is when the logger is built.
	stderr := os.Stderr
	os.Stderr = w
	logger, err := manager.NewLogger(manager.Options{LogEncoding: "json", LogLevel: "debug"})
	os.Stderr = stderr
	if err != nil {
		t.Fatal(err)
	}
	reconciler := func(kind, group, ns, name string) logr.Logger {
		return logger.WithValues("controller", strings.ToLower(kind), "controllerGroup", group, "controllerKind", kind,
			kind, map[string]string{"name": name, "namespace": ns}, "namespace", ns, "name", name,
			"reconcileID", "0b5c9d5e").WithValues("kind", kind)
	}
	logger.WithName("setup").Info("starting manager")
	apps := reconciler("Kustomization", "kustomize.toolkit.fluxcd.io", "flux-system", "apps")
	apps.Info("server-side apply completed", "revision", "main@sha1:0123")
	apps.V(1).Info("step failed", "step", "apply")
	reconciler("GitRepository", "source.toolkit.fluxcd.io", "flux-system", "flux-system").Info("stored artifact for commit 'init'")
	reconciler("Kustomization", "kustomize.toolkit.fluxcd.io", "team-a", "apps").
		Error(errors.New("dependency 'team-a/infra' is not ready"), "Reconciler error")
	w.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(data) + "not json: a line of another process\n"
}

var logTimestamp = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\S+ `)

func TestLogsFilter(t *testing.T) {
	lines := controllerLogLines(t)
	for _, tc := range []struct {
		name   string
		filter logFilter
		tail   int64
		want   string
	}{
		{"all", logFilter{}, -1, `<TS> info setup - starting manager
<TS> info Kustomization/apps.flux-system - server-side apply completed
<TS> debug Kustomization/apps.flux-system - step failed
<TS> info GitRepository/flux-system.flux-system - stored artifact for commit 'init'
<TS> error Kustomization/apps.team-a - Reconciler error: dependency 'team-a/infra' is not ready
`},
		{"namespace", logFilter{namespace: "flux-system"}, -1, `<TS> info Kustomization/apps.flux-system - server-side apply completed
<TS> debug Kustomization/apps.flux-system - step failed
<TS> info GitRepository/flux-system.flux-system - stored artifact for commit 'init'
`},
		{"kind any case", logFilter{kind: "kustomization"}, -1, `<TS> info Kustomization/apps.flux-system - server-side apply completed
<TS> debug Kustomization/apps.flux-system - step failed
<TS> error Kustomization/apps.team-a - Reconciler error: dependency 'team-a/infra' is not ready
`},
		{"name", logFilter{kind: "GitRepository", name: "flux-system"}, -1,
			"<TS> info GitRepository/flux-system.flux-system - stored artifact for commit 'init'\n"},
		{"level", logFilter{level: "error"}, -1,
			"<TS> error Kustomization/apps.team-a - Reconciler error: dependency 'team-a/infra' is not ready\n"},
		{"debug", logFilter{level: "debug", name: "apps"}, -1, "<TS> debug Kustomization/apps.flux-system - step failed\n"},
		{"tail", logFilter{name: "apps"}, 1,
			"<TS> error Kustomization/apps.team-a - Reconciler error: dependency 'team-a/infra' is not ready\n"},
		{"tail 0", logFilter{}, 0, ""},
		{"since future", logFilter{since: time.Now().Add(time.Hour)}, -1, ""},
		{"since past", logFilter{level: "error", since: time.Now().Add(-time.Hour)}, -1,
			"<TS> error Kustomization/apps.team-a - Reconciler error: dependency 'team-a/infra' is not ready\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			if err := tc.filter.copyLogs(&out, strings.NewReader(lines), tc.tail); err != nil {
				t.Fatal(err)
			}
			if got := logTimestamp.ReplaceAllString(out.String(), "<TS> "); got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s\nfrom\n%s", got, tc.want, lines)
			}
		})
	}
}

func TestLogsFromFile(t *testing.T) {
	lines := controllerLogLines(t)
	file := filepath.Join(t.TempDir(), "controller.log")
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := runFlux(t, "", "logs", "--from-file="+file, "-A", "--kind=Kustomization", "--level=info")
	if err != nil {
		t.Fatal(err)
	}
	if got := logTimestamp.ReplaceAllString(out, "<TS> "); got != "<TS> info Kustomization/apps.flux-system - server-side apply completed\n" {
		t.Fatalf("got %q", got)
	}
	// -n selects the objects' namespace; stdin works too.
	out, _, err = runFlux(t, lines, "logs", "--from-file=-", "-n", "team-a", "--tail=5")
	if err != nil {
		t.Fatal(err)
	}
	if got := logTimestamp.ReplaceAllString(out, "<TS> "); got != "<TS> error Kustomization/apps.team-a - Reconciler error: dependency 'team-a/infra' is not ready\n" {
		t.Fatalf("got %q", got)
	}
}

func TestLogsErrors(t *testing.T) {
	ns := env.Namespace(t)
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--flux-namespace=" + ns}, "no driftless-controller pods in namespace " + ns + "; is Driftless installed? run flux check"},
		{[]string{"--level=warn"}, `invalid --level "warn"`},
		{[]string{"--since-time=yesterday"}, "invalid --since-time"},
		{[]string{"--since=1m", "--since-time=2026-01-02T15:04:05Z"}, "only one of"},
		{[]string{"--from-file=/nonexistent"}, "read --from-file"},
		{[]string{"--from-file=-", "-f"}, "--follow does not apply"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runFlux(t, "", append([]string{"logs"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
}
