package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goldenUpdateRequested tells whether `go test -update` asked to rewrite goldens.
// The flag is looked up, not defined, so that one definition serves the
// whole package; UPDATE_GOLDEN=1 works too.
func goldenUpdateRequested() bool {
	f := flag.Lookup("update")
	return (f != nil && f.Value.String() == "true") || os.Getenv("UPDATE_GOLDEN") == "1"
}

// compareCLIGolden compares got with testdata/<name>, or rewrites it with -update.
func compareCLIGolden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if goldenUpdateRequested() {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update to accept):\n--- got\n%s\n--- want\n%s", file, got, want)
	}
}

func TestCreateExport(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"create/source-git-branch.yaml", []string{"create", "source", "git", "podinfo", "-n", "flux-system",
			"--url=https://github.com/stefanprodan/podinfo", "--branch=master", "--export"}},
		{"create/source-git-semver.yaml", []string{"create", "source", "git", "podinfo", "-n", "apps",
			"--url=ssh://git@github.com/stefanprodan/podinfo", "--tag-semver=>=6.0.0 <7.0.0", "--interval=5m",
			"--secret-ref=podinfo-auth", "--ignore-paths=/docs,*.md", "--recurse-submodules", "--fetch-timeout=90s",
			"--label=team=web,tier=frontend", "--export"}},
		{"create/source-git-commit.yaml", []string{"create", "source", "git", "pinned", "-n", "flux-system",
			"--url=http://git.example/repo.git", "--branch=main", "--commit=0123456789abcdef0123456789abcdef01234567", "--export"}},
		{"create/kustomization-minimal.yaml", []string{"create", "kustomization", "podinfo", "-n", "flux-system",
			"--source=podinfo", "--export"}},
		{"create/kustomization-full.yaml", []string{"create", "ks", "podinfo", "-n", "apps",
			"--source=gitrepository/podinfo.flux-system", "--path=kustomize/overlays//prod/", "--prune", "--wait",
			"--health-check=Deployment/podinfo.default", "--health-check-timeout=3m", "--depends-on=infra,flux-system/crds",
			"--target-namespace=default", "--service-account=deployer", "--interval=10m", "--retry-interval=2m",
			"--decryption-provider=sops", "--decryption-secret=sops-age", "--label=app=podinfo", "--export"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, _, err := runFlux(t, "", tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			compareCLIGolden(t, tc.golden, out)
		})
	}
}

func TestCreateBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"create", "source", "git", "x", "--branch=main"}, "url is required"},
		{[]string{"create", "source", "git", "x", "--url=ftp://h/r", "--branch=main"}, `scheme "ftp" not supported`},
		{[]string{"create", "source", "git", "x", "--url=https://h/r"}, "a Git ref is required"},
		{[]string{"create", "source", "git", "x", "--url=https://h/r", "--tag=v1", "--tag-semver=1.x"}, "only one of"},
		{[]string{"create", "source", "git", "x", "--url=https://h/r", "--branch=main", "--tag=v1"}, "--branch cannot be combined"},
		{[]string{"create", "source", "git", "--url=https://h/r", "--branch=main"}, "name is required"},
		{[]string{"create", "source", "git", "Bad_Name", "--url=https://h/r", "--branch=main"}, `invalid name "Bad_Name"`},
		{[]string{"create", "source", "git", "x", "--url=https://h/r", "--branch=main", "--label=novalue"}, "key=value"},
		{[]string{"create", "source", "git", "x", "--url=https://h/r", "--branch=main", "--interval=0s"}, "--interval must be positive"},
		{[]string{"create", "kustomization", "x"}, "source is required"},
		{[]string{"create", "kustomization", "x", "--source=HelmChart/y"}, `source kind "HelmChart"`},
		{[]string{"create", "kustomization", "x", "--source=GitRepository/"}, "invalid --source"},
		{[]string{"create", "kustomization", "x", "--source=y", "--path=../up"}, "invalid --path"},
		{[]string{"create", "kustomization", "x", "--source=y", "--path=/abs"}, "invalid --path"},
		{[]string{"create", "kustomization", "x", "--source=y", "--health-check=Deployment/web"}, "invalid --health-check"},
		{[]string{"create", "kustomization", "x", "--source=y", "--depends-on=/y"}, "invalid --depends-on"},
		{[]string{"create", "kustomization", "x", "--source=y", "--decryption-provider=vault"}, `decryption provider "vault"`},
		{[]string{"create", "kustomization", "x", "--source=y", "--decryption-secret=k"}, "needs --decryption-provider=sops"},
	} {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			args := append(tc.args, "--export")
			_, _, err := runFlux(t, "", args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
}
