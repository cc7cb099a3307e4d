package cli

import (
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
)

func TestCreateImageExport(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"create/image-repository.yaml", []string{"create", "image", "repository", "podinfo", "-n", "flux-system",
			"--image=ghcr.io/stefanprodan/podinfo", "--interval=5m", "--export"}},
		{"create/image-repository-auth.yaml", []string{"create", "image", "repository", "app", "-n", "apps",
			"--image=registry.example.com:5000/team/app", "--secret-ref=regcred", "--cert-ref=registry-ca",
			"--scan-timeout=30s", "--label=team=ops", "--export"}},
		{"create/image-policy-semver.yaml", []string{"create", "image", "policy", "podinfo", "-n", "flux-system",
			"--image-ref=podinfo", "--select-semver=5.x", "--export"}},
		{"create/image-policy-numeric.yaml", []string{"create", "image", "policy", "app", "-n", "apps",
			"--image-ref=app", "--filter-regex=^main-[a-f0-9]+-(?P<ts>[0-9]+)$", "--filter-extract=$ts",
			"--select-numeric=asc", "--reflect-digest=Always", "--interval=10m", "--export"}},
		{"create/image-policy-alpha.yaml", []string{"create", "image", "policy", "app", "-n", "apps",
			"--image-ref=app", "--select-alpha=desc", "--reflect-digest=ifnotpresent", "--export"}},
		{"create/image-update.yaml", []string{"create", "image", "update", "flux-system", "-n", "flux-system",
			"--git-repo-ref=flux-system", "--git-repo-path=./clusters/my-cluster", "--checkout-branch=main",
			"--author-name=flux", "--author-email=flux@example.com", "--interval=30m", "--export"}},
		{"create/image-update-push.yaml", []string{"create", "image", "update", "apps", "-n", "apps",
			"--git-repo-ref=fleet", "--git-repo-namespace=flux-system", "--checkout-branch=main",
			"--push-branch=image-updates", "--author-email=flux@example.com",
			"--commit-template={{range .Changed.Changes}}{{.OldValue}} -> {{.NewValue}}\n{{end}}",
			"--signing-key-secret=signing-key", "--signing-key-type=ssh", "--export"}},
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

// TestCreateImageBadFlags: each mistake is refused with a message that
// names the flag and the problem, and nothing is created.
func TestCreateImageBadFlags(t *testing.T) {
	ns := env.Namespace(t)
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"repository", "r"}, "an image is required: add --image"},
		{[]string{"repository", "r", "--image=https://ghcr.io/org/app"}, `invalid --image "https://ghcr.io/org/app": write the repository without a scheme`},
		{[]string{"repository", "r", "--image=ghcr.io/org/app:1.0"}, `invalid --image "ghcr.io/org/app:1.0": an image repository has no tag or digest`},
		{[]string{"repository", "r", "--image=ghcr.io/Org/App"}, `invalid --image "ghcr.io/Org/App"`},
		{[]string{"repository", "r", "--image=ghcr.io/org/app", "--secret-ref=Bad_Name"}, `invalid --secret-ref "Bad_Name"`},
		{[]string{"repository", "r", "--image=ghcr.io/org/app", "--interval=0s"}, "--interval must be positive"},
		{[]string{"repository", "r", "--image=ghcr.io/org/app", "--scan-timeout=-1s"}, "--scan-timeout must not be negative"},
		{[]string{"policy", "p", "--select-semver=1.x"}, "an image repository is required: add --image-ref"},
		{[]string{"policy", "p", "--image-ref=app"}, "a policy is required: add one of --select-semver, --select-alpha or --select-numeric"},
		{[]string{"policy", "p", "--image-ref=app", "--select-semver=1.x", "--select-alpha=asc"}, "only one policy may be given, got --select-semver and --select-alpha"},
		{[]string{"policy", "p", "--image-ref=app", "--select-semver=not a range"}, "invalid semver.range 'not a range'"},
		{[]string{"policy", "p", "--image-ref=app", "--select-numeric=up"}, `invalid --select-numeric "up": must be one of asc, desc`},
		{[]string{"policy", "p", "--image-ref=app", "--select-alpha=asc", "--filter-regex=(unclosed"}, "invalid filterTags.pattern '(unclosed'"},
		{[]string{"policy", "p", "--image-ref=app", "--select-alpha=asc", "--filter-regex=^v(?P<v>.*)$", "--filter-extract=$missing"}, "(--filter-extract)"},
		{[]string{"policy", "p", "--image-ref=app", "--select-alpha=asc", "--filter-extract=$ts"}, "--filter-extract needs --filter-regex"},
		{[]string{"policy", "p", "--image-ref=app", "--select-alpha=asc", "--reflect-digest=Sometimes"}, `invalid --reflect-digest "Sometimes": must be one of Never, IfNotPresent, Always`},
		{[]string{"policy", "p", "--image-ref=app", "--select-alpha=asc", "--interval=5m"}, "--interval applies with --reflect-digest=Always only"},
		{[]string{"update", "u", "--author-email=a@example.com"}, "a GitRepository is required: add --git-repo-ref"},
		{[]string{"update", "u", "--git-repo-ref=fleet"}, "the commit author's email is required: add --author-email"},
		{[]string{"update", "u", "--git-repo-ref=fleet", "--author-email=a@example.com", "--signing-key-type=ssh"}, "--signing-key-type needs --signing-key-secret"},
		{[]string{"update", "u", "--git-repo-ref=fleet", "--author-email=a@example.com", "--signing-key-secret=k", "--signing-key-type=pgp"}, `invalid --signing-key-type "pgp": must be one of gpg, ssh`},
		{[]string{"update", "u", "--git-repo-ref=fleet", "--author-email=a@example.com", "--git-repo-path=../other"}, `invalid --git-repo-path "../other"`},
		{[]string{"update", "u", "--git-repo-ref=fleet", "--author-email=a@example.com", "--push-branch=a..b"}, `invalid --push-branch "a..b": not a Git branch name`},
		{[]string{"update", "u", "--git-repo-ref=fleet", "--author-email=a@example.com", "--git-repo-namespace=Flux_System"}, `invalid --git-repo-namespace "Flux_System"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runFlux(t, "", append([]string{"create", "image", "-n", ns}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want an error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
	for _, list := range []client.ObjectList{&imagev1.ImageRepositoryList{}, &imagev1.ImagePolicyList{}, &imagev1.ImageUpdateAutomationList{}} {
		if err := kube.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		n := 0
		switch l := list.(type) {
		case *imagev1.ImageRepositoryList:
			n = len(l.Items)
		case *imagev1.ImagePolicyList:
			n = len(l.Items)
		case *imagev1.ImageUpdateAutomationList:
			n = len(l.Items)
		}
		if n > 0 {
			t.Errorf("a refused create left %d objects of %T", n, list)
		}
	}
}
