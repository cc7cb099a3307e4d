package cli

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
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
		{[]string{"repository", "r", "--image=ghcr.io/org/app:1.0"}, `invalid --image "ghcr.io/org/app:1.0": an image repository has no tag or digest; use ghcr.io/org/app`},
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
		{[]string{"update", "u", "--git-repo-ref=fleet", "--author-email=a@example.com", "--commit-template={{ .Changed"},
			"invalid --commit-template: template: commit message:1: unclosed action"},
		{[]string{"update", "u", "--git-repo-ref=fleet", "--author-email=a@example.com", "--commit-template={{ now }}"},
			`invalid --commit-template: template: commit message:1: function "now" not defined`},
		{[]string{"update", "u", "--git-repo-ref=fleet", "--author-email=a@example.com", "--commit-template={{ range .Changed.Changes }}{{ $.Changed.ImageResult }}{{ end }}"},
			"invalid --commit-template: it uses removed field '.Changed.ImageResult'; use '.Changed' (FileChanges, Changes, Objects)"},
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

// TestCreateImageUpdateCommitTemplate: a --commit-template that parses is
// exported as written; one reading .Updated, which Flux removed and
// Driftless renders, is exported too, with a warning on stderr.
func TestCreateImageUpdateCommitTemplate(t *testing.T) {
	for _, tc := range []struct{ template, warning string }{
		{"Automated update\n\n{{ range .Changed.Changes }}- {{ .OldValue }} -> {{ .NewValue }}\n{{ end }}{{ .AutomationObject }}", ""},
		{"{{ range .Updated.Images }}{{ . }} {{ end }}", "⚠️ --commit-template uses '.Updated', which Flux has removed: Driftless renders it, but use '.Changed' (FileChanges, Changes, Objects)\n"},
	} {
		out, errOut, err := runFlux(t, "", "create", "image", "update", "u", "-n", "apps", "--git-repo-ref=fleet",
			"--author-email=a@example.com", "--commit-template="+tc.template, "--export")
		if err != nil {
			t.Fatalf("%q: %v", tc.template, err)
		}
		var got imagev1.ImageUpdateAutomation
		if err := yaml.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%q: %v\n%s", tc.template, err, out)
		}
		if got.Spec.GitSpec == nil || got.Spec.GitSpec.Commit.MessageTemplate != tc.template {
			t.Errorf("exported, want %q unchanged:\n%s", tc.template, out)
		}
		if errOut != tc.warning {
			t.Errorf("%q: stderr %q, want %q", tc.template, errOut, tc.warning)
		}
	}
}

// pushImageTags writes one small random image to repo of reg and tags it
// with every tag.
func pushImageTags(t *testing.T, reg *ocitest.Registry, repo string, tags ...string) {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{remote.WithTransport(&http.Transport{TLSClientConfig: reg.TLSConfig()})}
	if reg.Username != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: reg.Username, Password: reg.Password}))
	}
	ref, err := name.ParseReference(reg.Ref(repo) + ":" + tags[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	for _, tag := range tags[1:] {
		if err := remote.Tag(ref.Context().Tag(tag), img, opts...); err != nil {
			t.Fatalf("tag %s: %v", tag, err)
		}
	}
}

// imageRegistry starts a registry behind TLS and basic auth and makes a
// namespace with its credentials (Secret regcred) and CA (registry-ca).
func imageRegistry(t *testing.T) (*ocitest.Registry, string) {
	t.Helper()
	reg := ocitest.Start(t, ocitest.Options{TLS: true, Auth: ocitest.BasicAuth})
	ns := env.Namespace(t)
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: "regcred", Namespace: ns}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: reg.DockerConfigJSON()}},
		{ObjectMeta: metav1.ObjectMeta{Name: "registry-ca", Namespace: ns}, Data: map[string][]byte{"ca.crt": reg.CAPEM}},
	} {
		if err := kube.Create(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	return reg, ns
}

// TestImageCommands drives the image reflector through the command line
// against a real registry behind TLS and basic auth: create image
// repository (its --secret-ref and --cert-ref used for real) waits for the
// scan; get images all and get images repository show it with LAST SCAN;
// create image policy picks the highest semver tag, which get images
// policy shows as LATEST IMAGE and describe as latestRef; a new tag and
// reconcile image repository move the pick, describe then naming the
// previous one; suspend and resume, export and delete round off.
func TestImageCommands(t *testing.T) {
	reg, ns := imageRegistry(t)
	pushImageTags(t, reg, "team/app", "1.0.0", "1.2.0", "2.0.0-rc.1", "latest")
	ctx := context.Background()
	image := reg.Ref("team/app")

	_, errOut := flux(t, "-n", ns, "create", "image", "repository", "app", "--image="+image,
		"--secret-ref=regcred", "--cert-ref=registry-ca", "--interval=1h")
	for _, want := range []string{"✔ ImageRepository created", "✔ ImageRepository app is ready", "✔ scan fetched 4 tags"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("create image repository printed no %q:\n%s", want, errOut)
		}
	}

	out, _ := flux(t, "-n", ns, "get", "images", "repository")
	if h := strings.Fields(strings.Split(out, "\n")[0]); strings.Join(h, " ") != "NAME LAST SCAN SUSPENDED READY MESSAGE" {
		t.Errorf("get images repository header %v", h)
	}
	row := strings.Fields(tableRow(t, out, "app"))
	if _, err := time.Parse(time.RFC3339, row[1]); err != nil || row[2] != "False" || row[3] != "True" {
		t.Errorf("get images repository row %v: want an RFC 3339 scan time, not suspended, ready", row)
	}
	out, _ = flux(t, "-n", ns, "get", "images", "all")
	if !strings.Contains(out, "imagerepository/app") || !strings.Contains(out, "successful scan: found 4 tags") {
		t.Errorf("get images all does not show the repository:\n%s", out)
	}

	_, errOut = flux(t, "-n", ns, "create", "image", "policy", "app", "--image-ref=app", "--select-semver=>=1.0.0")
	if want := "✔ selected image " + image + ":1.2.0"; !strings.Contains(errOut, want) {
		t.Errorf("create image policy printed no %q:\n%s", want, errOut)
	}
	out, _ = flux(t, "-n", ns, "get", "images", "policy", "app")
	if h := strings.Fields(strings.Split(out, "\n")[0]); strings.Join(h, " ") != "NAME LATEST IMAGE SUSPENDED READY MESSAGE" {
		t.Errorf("get images policy header %v", h)
	}
	if row := strings.Fields(tableRow(t, out, "app")); row[1] != image+":1.2.0" || row[3] != "True" {
		t.Errorf("get images policy row %v: want %s:1.2.0, ready", row, image)
	}

	pushImageTags(t, reg, "team/app", "1.3.0")
	_, errOut = flux(t, "-n", ns, "reconcile", "image", "repository", "app")
	if !strings.Contains(errOut, "✔ scan fetched 5 tags") {
		t.Errorf("reconcile image repository:\n%s", errOut)
	}
	controllertest.WaitFor(t, kube, client.ObjectKey{Namespace: ns, Name: "app"}, "the policy's pick of 1.3.0",
		func(p *imagev1.ImagePolicy) bool {
			return p.Status.LatestRef != nil && p.Status.LatestRef.Tag == "1.3.0"
		})
	_, errOut = flux(t, "-n", ns, "reconcile", "image", "policy", "app", "--with-source")
	for _, want := range []string{"annotating ImageRepository app", "✔ scan fetched 5 tags", "✔ selected image " + image + ":1.3.0"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("reconcile image policy --with-source printed no %q:\n%s", want, errOut)
		}
	}
	out, _ = flux(t, "-n", ns, "events", "--for", "ImagePolicy/app")
	if !strings.Contains(out, "ImageRepository/app") || !strings.Contains(out, "ImagePolicy/app") {
		t.Errorf("events --for ImagePolicy/app leaves out its own or its ImageRepository's events:\n%s", out)
	}
	out, _ = flux(t, "-n", ns, "describe", "image", "policy", "app")
	for _, want := range []string{"Latest Ref:", image + ":1.3.0", "Observed Previous Ref:", image + ":1.2.0", "Policy:", "semver:>=1.0.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe image policy shows no %q:\n%s", want, out)
		}
	}
	out, _ = flux(t, "-n", ns, "get", "images", "all")
	if !strings.Contains(out, "imagepolicy/app") || !strings.Contains(out, image+":1.3.0") {
		t.Errorf("get images all does not show the policy's pick:\n%s", out)
	}

	flux(t, "-n", ns, "suspend", "image", "repository", "app")
	out, _ = flux(t, "-n", ns, "get", "images", "repository", "app")
	if row := strings.Fields(tableRow(t, out, "app")); row[2] != "True" {
		t.Errorf("suspended repository row %v", row)
	}
	_, errOut = flux(t, "-n", ns, "resume", "image", "repository", "app")
	if !strings.Contains(errOut, "scan fetched 5 tags") {
		t.Errorf("resume image repository:\n%s", errOut)
	}

	out, _ = flux(t, "-n", ns, "export", "image", "policy", "app")
	for _, want := range []string{"kind: ImagePolicy", "range: '>=1.0.0'"} {
		if !strings.Contains(out, want) {
			t.Errorf("export image policy has no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "status:") || strings.Contains(out, "latestRef") {
		t.Errorf("export image policy writes the status:\n%s", out)
	}

	out, _ = flux(t, "-n", ns, "get", "all")
	for _, want := range []string{"imagerepository/app", "imagepolicy/app"} {
		if !strings.Contains(out, want) {
			t.Errorf("get all does not show %s:\n%s", want, out)
		}
	}
	out, _ = flux(t, "-n", ns, "get", "images", "all", "-o", "name")
	if want := "imagerepository.image.toolkit.fluxcd.io/app\nimagepolicy.image.toolkit.fluxcd.io/app\n"; out != want {
		t.Errorf("get images all -o name:\n%s\nwant:\n%s", out, want)
	}
	out, _ = flux(t, "-n", ns, "export", "image", "policy", "--all")
	if !strings.Contains(out, "kind: ImagePolicy") || !strings.Contains(out, "name: app") {
		t.Errorf("export image policy --all:\n%s", out)
	}

	out, _ = flux(t, "-n", ns, "export", "image", "repository", "app", "--with-credentials")
	for _, want := range []string{"kind: ImageRepository", "kind: Secret", "name: regcred"} {
		if !strings.Contains(out, want) {
			t.Errorf("export image repository --with-credentials has no %q:\n%s", want, out)
		}
	}

	flux(t, "-n", ns, "delete", "image", "policy", "app", "--silent")
	flux(t, "-n", ns, "delete", "image", "repository", "app", "--silent")
	var repos imagev1.ImageRepositoryList
	if err := kube.List(ctx, &repos, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, r := range repos.Items {
		if r.DeletionTimestamp == nil {
			t.Errorf("ImageRepository %s outlives delete", r.Name)
		}
	}
}

// TestImageUpdateCommands: create image update waits for the automation's
// first run, which commits the policy's pick to the marked file and
// pushes it; get images update shows LAST RUN; a new tag, reconcile image
// repository and then reconcile image update print the new commit, which
// is the branch's head.
func TestImageUpdateCommands(t *testing.T) {
	reg, ns := imageRegistry(t)
	pushImageTags(t, reg, "team/app", "1.0.0", "1.1.0")
	image := reg.Ref("team/app")
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"apps/deploy.yaml": "spec:\n  image: " + image +
		":1.0.0 # {\"$imagepolicy\": \"" + ns + ":app\"}\n"}, "init")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})

	flux(t, "-n", ns, "create", "source", "git", "fleet", "--url="+srv.RepoURL(repo.Name()), "--branch=main", "--interval=1h")
	flux(t, "-n", ns, "create", "image", "repository", "app", "--image="+image,
		"--secret-ref=regcred", "--cert-ref=registry-ca", "--interval=1h")
	flux(t, "-n", ns, "create", "image", "policy", "app", "--image-ref=app", "--select-semver=1.x")

	_, errOut := flux(t, "-n", ns, "create", "image", "update", "fleet", "--git-repo-ref=fleet", "--git-repo-path=./apps",
		"--checkout-branch=main", "--author-name=fluxbot", "--author-email=fluxbot@example.com", "--interval=1h")
	head := repo.Head("main")
	if want := "✔ last pushed commit " + head; !strings.Contains(errOut, want) {
		t.Errorf("create image update printed no %q:\n%s", want, errOut)
	}
	out, _ := flux(t, "-n", ns, "get", "images", "update")
	if h := strings.Fields(strings.Split(out, "\n")[0]); strings.Join(h, " ") != "NAME LAST RUN SUSPENDED READY MESSAGE" {
		t.Errorf("get images update header %v", h)
	}
	row := strings.Fields(tableRow(t, out, "fleet"))
	if _, err := time.Parse(time.RFC3339, row[1]); err != nil || row[3] != "True" {
		t.Errorf("get images update row %v: want an RFC 3339 run time, ready", row)
	}

	pushImageTags(t, reg, "team/app", "1.2.0")
	flux(t, "-n", ns, "reconcile", "image", "repository", "app")
	controllertest.WaitFor(t, kube, client.ObjectKey{Namespace: ns, Name: "app"}, "the policy's pick of 1.2.0",
		func(p *imagev1.ImagePolicy) bool {
			return p.Status.LatestRef != nil && p.Status.LatestRef.Tag == "1.2.0"
		})
	_, errOut = flux(t, "-n", ns, "reconcile", "image", "update", "fleet")
	next := repo.Head("main")
	if next == head {
		t.Fatalf("reconcile image update pushed nothing:\n%s", errOut)
	}
	if want := "✔ last pushed commit " + next; !strings.Contains(errOut, want) {
		t.Errorf("reconcile image update printed no %q:\n%s", want, errOut)
	}
	_, errOut = flux(t, "-n", ns, "reconcile", "image", "update", "fleet", "--with-source")
	if !strings.Contains(errOut, "annotating GitRepository fleet") || !strings.Contains(errOut, "✔ last pushed commit "+next) {
		t.Errorf("reconcile image update --with-source:\n%s", errOut)
	}
	out, _ = flux(t, "-n", ns, "describe", "image", "update", "fleet")
	for _, want := range []string{"Last Push Commit:", next, "Author:", "fluxbot <fluxbot@example.com>", "app=" + image + ":1.2.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe image update shows no %q:\n%s", want, out)
		}
	}
}
