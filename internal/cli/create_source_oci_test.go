package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

const podinfoOCI = "--url=oci://ghcr.io/stefanprodan/manifests/podinfo"

// TestCreateSourceOCIExport: Flux's documented examples of `flux create
// source oci` and the cases of its golden tests, printed with --export.
func TestCreateSourceOCIExport(t *testing.T) {
	digest := "sha256:3b6cdcc7adcc9a84d3214ee1c029543789d90b5ae69debe9efa3f66e982875de"
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		// The examples of `flux create source oci --help` in Flux 2.9.
		{"create/source-oci-tag.yaml", []string{"podinfo", podinfoOCI, "--tag=6.6.2", "--interval=10m"}},
		{"create/source-oci-keyless.yaml", []string{"podinfo", podinfoOCI, "--tag=6.6.2", "--interval=10m", "--verify-provider=cosign",
			"--verify-subject=^https://github.com/stefanprodan/podinfo/.github/workflows/release.yml@refs/tags/6.6.2$",
			"--verify-issuer=^https://token.actions.githubusercontent.com$"}},
		// The cases of Flux's golden tests.
		{"create/source-oci-secret.yaml", []string{"podinfo", podinfoOCI, "--tag=6.1.6", "--interval", "10m", "--secret-ref=creds"}},
		{"create/source-oci-verify-secret.yaml", []string{"podinfo", podinfoOCI, "--tag=6.3.5", "--verify-provider=cosign",
			"--verify-secret-ref=cosign-pub"}},
		{"create/source-oci-layer-selector.yaml", []string{"podinfo", podinfoOCI, "--tag=6.3.5", "--interval=10m",
			"--layer-selector=application/vnd.cncf.helm.chart.content.v1.tar+gzip:copy"}},
		// Every other flag.
		{"create/source-oci-all-flags.yaml", []string{"app", "-n", "apps", "--url=oci://registry.example.com:5000/team/app",
			"--tag-semver=>=1.0.0 <2.0.0", "--provider=aws", "--service-account=puller", "--cert-ref=registry-tls",
			"--proxy-secret-ref=proxy", "--ignore-paths=/docs,*.md", "--insecure", "--fetch-timeout=90s",
			"--layer-selector=application/vnd.cncf.flux.content.v1.tar+gzip", "--verify-provider=notation",
			"--verify-secret-ref=notation-trust", "--interval=5m", "--label=team=web,tier=frontend"}},
		{"create/source-oci-digest.yaml", []string{"pinned", "--url=oci://127.0.0.1:5000/manifests/app", "--digest=" + digest}},
		{"create/kustomization-oci-source.yaml", nil},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			args := append([]string{"create", "source", "oci"}, tc.args...)
			if tc.args == nil {
				args = []string{"create", "kustomization", "podinfo", "--source=OCIRepository/podinfo", "--path=./kustomize", "--prune"}
			}
			out, errOut, err := runFlux(t, "", append(args, "--export")...)
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut)
			}
			compareCLIGolden(t, tc.golden, out)
		})
	}

	// Given several references, all are written as Flux writes them, and
	// the one the controller uses is named.
	out, errOut, err := runFlux(t, "", "create", "source", "oci", "x", podinfoOCI, "--tag=1.0.0", "--digest="+digest, "--export")
	if err != nil || !strings.Contains(out, "digest: "+digest) || !strings.Contains(out, "tag: 1.0.0") ||
		!strings.Contains(errOut, "--digest wins over --tag and --tag-semver: the controller pulls "+digest) {
		t.Errorf("--tag with --digest: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	_, errOut, err = runFlux(t, "", "create", "source", "oci", "x", podinfoOCI, "--tag=1.0.0", "--tag-semver=1.x", "--export")
	if err != nil || !strings.Contains(errOut, `--tag-semver wins over --tag: the controller pulls the highest tag in "1.x"`) {
		t.Errorf("--tag with --tag-semver: %v\n%s", err, errOut)
	}
}

func TestCreateSourceOCIBadFlags(t *testing.T) {
	oci := func(extra ...string) []string {
		return append([]string{"create", "source", "oci", "x"}, extra...)
	}
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"create", "source", "oci", podinfoOCI, "--tag=1"}, "name is required"},
		{[]string{"create", "source", "oci", "Bad_Name", podinfoOCI, "--tag=1"}, `invalid name "Bad_Name"`},
		{oci("--tag=1"), "url is required: add --url=oci://<registry>/<repository>"},
		{oci("--url=ghcr.io/stefanprodan/manifests/podinfo", "--tag=1"), "an OCI repository URL starts with oci://"},
		{oci("--url=https://ghcr.io/stefanprodan/manifests/podinfo", "--tag=1"), "an OCI repository URL starts with oci://"},
		{oci("--url=oci://ghcr.io/stefanprodan/manifests/podinfo:6.6.2", "--tag=1"), `it names the tag "6.6.2"; give the repository in --url and the tag with --tag`},
		{oci("--url=oci://ghcr.io/org/app@sha256:3b6cdcc7adcc9a84d3214ee1c029543789d90b5ae69debe9efa3f66e982875de", "--tag=1"),
			"give the repository in --url and the digest with --digest"},
		{oci("--url=oci://localhost:5000", "--tag=1"), "it names no repository; write it as oci://<registry>/<repository>"},
		{oci("--url=oci://ghcr.io/Org/App", "--tag=1"), `invalid --url "oci://ghcr.io/Org/App"`},
		{oci(podinfoOCI), "--tag, --tag-semver or --digest is required"},
		{oci(podinfoOCI, "--tag=-bad"), `invalid --tag "-bad"`},
		{oci(podinfoOCI, "--tag-semver=>=1.0.0 <<2"), `invalid --tag-semver ">=1.0.0 <<2"`},
		{oci(podinfoOCI, "--digest=sha256:abc"), `invalid --digest "sha256:abc": want sha256:<64 hex digits>`},
		{oci(podinfoOCI, "--digest=6.6.2"), `invalid --digest "6.6.2"`},
		{oci(podinfoOCI, "--tag=1", "--provider=oracle"), `OCI provider "oracle" in --provider is not supported, must be one of: generic, aws, azure, gcp`},
		{oci(podinfoOCI, "--tag=1", "--secret-ref=Bad_Secret"), `invalid --secret-ref "Bad_Secret": not a valid Secret name`},
		{oci(podinfoOCI, "--tag=1", "--cert-ref=a/b"), `invalid --cert-ref "a/b"`},
		{oci(podinfoOCI, "--tag=1", "--proxy-secret-ref=-p"), `invalid --proxy-secret-ref "-p"`},
		{oci(podinfoOCI, "--tag=1", "--service-account=SA"), `invalid --service-account "SA": not a valid ServiceAccount name`},
		{oci(podinfoOCI, "--tag=1", "--verify-secret-ref=keys"), "a verification provider must be specified when a secret is specified"},
		{oci(podinfoOCI, "--tag=1", "--verify-issuer=x", "--verify-subject=y"), "a verification provider must be specified when OIDC issuer/subject is specified"},
		{oci(podinfoOCI, "--tag=1", "--verify-provider=gpg"), `verification provider "gpg" in --verify-provider is not supported, must be one of: cosign, notation`},
		{oci(podinfoOCI, "--tag=1", "--verify-provider=cosign", "--verify-issuer=^https://token$"), "--verify-issuer and --verify-subject go together"},
		{oci(podinfoOCI, "--tag=1", "--verify-provider=cosign", "--verify-subject=x", "--verify-issuer=(unclosed"), `invalid --verify-issuer "(unclosed"`},
		{oci(podinfoOCI, "--tag=1", "--verify-provider=notation", "--verify-subject=x", "--verify-issuer=y"), "notation verifies with the trust policy"},
		{oci(podinfoOCI, "--tag=1", "--layer-selector=copy"), `invalid --layer-selector "copy": write it as <media-type>:<operation>`},
		{oci(podinfoOCI, "--tag=1", "--layer-selector=application/vnd.cncf.helm.chart.content.v1.tar+gzip:move"),
			`invalid operation "move" in --layer-selector`},
		{oci(podinfoOCI, "--tag=1", "--fetch-timeout=-1s"), "--fetch-timeout must be positive"},
		{oci(podinfoOCI, "--tag=1", "--interval=0s"), "--interval must be positive"},
		{oci(podinfoOCI, "--tag=1", "--label=novalue"), "key=value"},
	} {
		t.Run(strings.Join(tc.args[3:], " "), func(t *testing.T) {
			_, _, err := runFlux(t, "", append(tc.args, "--export")...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
}

// TestCreateSourceOCIExportApplies applies every exported OCIRepository to
// the cluster: the API server takes each (the CRD's validation) and reads
// back the same spec, with its defaults (provider generic, timeout 60s)
// filled in.
func TestCreateSourceOCIExportApplies(t *testing.T) {
	ns := env.Namespace(t)
	files, err := filepath.Glob(filepath.Join("testdata", "create", "source-oci-*.yaml"))
	if err != nil || len(files) < 7 {
		t.Fatalf("the source-oci goldens: %v %v", files, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		want := &sourcev1.OCIRepository{}
		if err := yaml.UnmarshalStrict(data, want); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		obj := want.DeepCopy()
		obj.Namespace = ns
		obj.Name = strings.TrimSuffix(filepath.Base(file), ".yaml")
		// A shard nobody reconciles: the object stays as applied.
		obj.Labels = map[string]string{shardKey: unansweredShard}
		if err := kube.Create(context.Background(), obj); err != nil {
			t.Fatalf("%s is refused by the API server: %v", file, err)
		}
		got := &sourcev1.OCIRepository{}
		if err := kube.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err != nil {
			t.Fatal(err)
		}
		if want.Spec.Provider == "" {
			want.Spec.Provider = sourcev1.GenericOCIProvider
		}
		if want.Spec.Timeout == nil {
			want.Spec.Timeout = &metav1.Duration{Duration: time.Minute}
		}
		if !equality.Semantic.DeepEqual(got.Spec, want.Spec) {
			t.Errorf("%s read back differs:\n got %+v\nwant %+v", file, got.Spec, want.Spec)
		}
	}
}
