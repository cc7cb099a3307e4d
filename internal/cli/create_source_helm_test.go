package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

const (
	podinfoHelm    = "--url=https://stefanprodan.github.io/podinfo"
	podinfoHelmOCI = "--url=oci://ghcr.io/stefanprodan/charts/podinfo"
)

// TestCreateSourceHelmChartExport: Flux's documented examples and golden
// cases of `flux create source helm|chart`, and every other flag, printed
// with --export.
func TestCreateSourceHelmChartExport(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		// The examples of `flux create source helm --help` in Flux 2.9:
		// the credentials Secret is not part of an export.
		{"create/source-helm-https.yaml", []string{"helm", "podinfo", podinfoHelm, "--interval=10m"}},
		{"create/source-helm-oci.yaml", []string{"helm", "podinfo", podinfoHelmOCI, "-u", "username", "-p", "password"}},
		{"create/source-helm-oci-secret-ref.yaml", []string{"helm", "podinfo", podinfoHelmOCI, "--secret-ref=docker-config"}},
		// Every other flag.
		{"create/source-helm-all-flags.yaml", []string{"helm", "charts", "-n", "apps", "--url=http://charts.example.com:8080/stable",
			"--secret-ref=charts-auth", "--pass-credentials", "--fetch-timeout=90s", "--interval=5m", "--label=team=web,tier=frontend"}},
		{"create/source-helm-oci-provider.yaml", []string{"helm", "ecr", "--url=oci://012345678901.dkr.ecr.us-east-1.amazonaws.com/charts",
			"--oci-provider=aws"}},
		// The cases of Flux's golden tests of `create source chart`.
		{"create/source-chart-basic.yaml", []string{"chart", "podinfo", "--source", "helmrepository/podinfo", "--chart", "podinfo"}},
		{"create/source-chart-verify-basic.yaml", []string{"chart", "podinfo", "--source", "helmrepository/podinfo", "--chart", "podinfo",
			"--verify-provider", "cosign"}},
		{"create/source-chart-verify-complete.yaml", []string{"chart", "podinfo", "--source", "helmrepository/podinfo", "--chart", "podinfo",
			"--verify-provider", "cosign", "--verify-issuer", "foo", "--verify-subject", "bar"}},
		// The examples of its --help, and every other flag.
		{"create/source-chart-version.yaml", []string{"chart", "podinfo", "--source=HelmRepository/podinfo", "--chart=podinfo",
			"--chart-version=6.x", "--verify-provider=notation", "--verify-secret-ref=notation-trust", "--interval=10m", "--label=team=web"}},
		{"create/source-chart-git.yaml", []string{"chart", "podinfo", "--source=GitRepository/podinfo", "--chart=./charts/podinfo",
			"--reconcile-strategy=Revision"}},
		{"create/source-chart-bucket.yaml", []string{"chart", "podinfo", "--source=Bucket/podinfo", "--chart=./charts/podinfo"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, err := runFlux(t, "", append(append([]string{"create", "source"}, tc.args...), "--export")...)
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut)
			}
			compareCLIGolden(t, tc.golden, out)
		})
	}

	// A chart version of a chart from Git is written, as Flux writes it,
	// and said to be ignored.
	out, errOut, err := runFlux(t, "", "create", "source", "chart", "x", "--source=GitRepository/podinfo", "--chart=./charts/podinfo",
		"--chart-version=1.x", "--export")
	if err != nil || !strings.Contains(out, "version: 1.x") ||
		!strings.Contains(errOut, "--chart-version is ignored for charts from a GitRepository: the version is the one of the chart's Chart.yaml") {
		t.Errorf("--chart-version with a GitRepository: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
}

func TestCreateSourceHelmBadFlags(t *testing.T) {
	helm := func(extra ...string) []string { return append([]string{"create", "source", "helm", "x"}, extra...) }
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"create", "source", "helm", podinfoHelm}, "name is required"},
		{helm(), "url is required: add --url=https://<host>/<path> for a chart repository, or --url=oci://<registry>/<repository>"},
		{helm("--url=git://charts.example.com/stable"), `URL scheme "git" in --url "git://charts.example.com/stable" is not supported: use http://, https:// or oci://`},
		{helm("--url=charts.example.com"), `URL scheme "" in --url "charts.example.com" is not supported`},
		{helm("--url=https://"), `invalid --url "https://": it names no host`},
		{helm("--url=https://charts.example.com/%zz"), `invalid --url "https://charts.example.com/%zz"`},
		{helm(podinfoHelmOCI, "-u", "username"), "--username and --password must be given together"},
		{helm(podinfoHelm, "-p", "password"), "--username and --password must be given together"},
		{helm(podinfoHelm, "--cert-file="+testClientCrt), "--cert-file and --key-file must be given together"},
		{helm(podinfoHelm, "-u", "u", "-p", "p", "--secret-ref=auth"), "--username cannot be combined with --secret-ref"},
		{helm(podinfoHelm, "--ca-file="+testCA, "--secret-ref=auth"), "--ca-file cannot be combined with --secret-ref"},
		{helm(podinfoHelm, "--pass-credentials"), "--pass-credentials sends the repository's credentials to other hosts, but there are none"},
		{helm(podinfoHelm, "--secret-ref=Bad_Secret"), `invalid --secret-ref "Bad_Secret": not a valid Secret name`},
		{helm(podinfoHelm, "--oci-provider=aws"), "--oci-provider is only used with an oci:// --url"},
		{helm(podinfoHelmOCI, "--oci-provider=oracle"), `OCI provider "oracle" in --oci-provider is not supported, must be one of: generic, aws, azure, gcp`},
		{helm(podinfoHelm, "--fetch-timeout=-1s"), "--fetch-timeout must be positive"},
		{helm(podinfoHelm, "--interval=0s"), "--interval must be positive"},
		{helm(podinfoHelm, "--label=novalue"), "key=value"},
		{helm(podinfoHelm, "--ca-file=/nonexistent/ca.crt"), "read --ca-file"},
		{helm(podinfoHelm, "--ca-file="+testClientKey), "--ca-file " + testClientKey + ": no PEM certificate found"},
		{helm(podinfoHelm, "--cert-file="+testClientCrt, "--key-file="+testCA), "are not a valid PEM certificate and private key"},
	} {
		t.Run(strings.Join(tc.args[3:], " "), func(t *testing.T) {
			_, _, err := runFlux(t, "", append(tc.args, "--export")...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
}

func TestCreateSourceChartBadFlags(t *testing.T) {
	chart := func(extra ...string) []string { return append([]string{"create", "source", "chart", "x"}, extra...) }
	repo := "--source=HelmRepository/podinfo"
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"create", "source", "chart", repo, "--chart=podinfo"}, "name is required"},
		{chart("--chart=podinfo"), "chart source is required: add --source=<kind>/<name>, where kind is one of: HelmRepository, GitRepository, Bucket"},
		{chart("--source=podinfo", "--chart=podinfo"), `invalid --source "podinfo": write it as <kind>/<name>, e.g. HelmRepository/podinfo`},
		{chart("--source=HelmRepository/", "--chart=podinfo"), `invalid --source "HelmRepository/": write it as <kind>/<name>`},
		{chart("--source=foobar/podinfo", "--chart=podinfo"),
			`source kind "foobar" in --source "foobar/podinfo" is not supported, must be one of: HelmRepository, GitRepository, Bucket`},
		{chart("--source=OCIRepository/podinfo", "--chart=podinfo"), `source kind "OCIRepository" in --source "OCIRepository/podinfo" is not supported`},
		{chart("--source=HelmRepository/other/podinfo", "--chart=podinfo"), `invalid --source "other/podinfo": not a valid HelmRepository name`},
		{chart(repo), "chart name or path is required"},
		{chart(repo, "--chart=./charts/podinfo"), `invalid --chart "./charts/podinfo": a chart of a HelmRepository is named, not a path`},
		{chart("--source=GitRepository/podinfo", "--chart=../other/chart"), `invalid --chart "../other/chart": the chart path must stay inside the GitRepository`},
		{chart(repo, "--chart=podinfo", "--chart-version=>=1.0 <<2"), `invalid --chart-version ">=1.0 <<2"`},
		{chart(repo, "--chart=podinfo", "--reconcile-strategy=Always"),
			`reconcile strategy "Always" in --reconcile-strategy is not supported, must be one of: ChartVersion, Revision`},
		{chart(repo, "--chart=podinfo", "--verify-provider=gpg"),
			`verification provider "gpg" in --verify-provider is not supported, must be one of: cosign, notation`},
		{chart(repo, "--chart=podinfo", "--verify-secret-ref=keys"), "a verification provider must be specified when a secret is specified"},
		{chart(repo, "--chart=podinfo", "--verify-issuer=x", "--verify-subject=y"),
			"a verification provider must be specified when OIDC issuer/subject is specified"},
		{chart(repo, "--chart=podinfo", "--verify-provider=cosign", "--verify-issuer=(unclosed", "--verify-subject=x"), `invalid --verify-issuer "(unclosed"`},
		{chart("--source=GitRepository/podinfo", "--chart=./charts/podinfo", "--verify-provider=cosign"),
			"--verify-provider verifies charts pulled from an OCI HelmRepository, not from a GitRepository"},
		{chart(repo, "--chart=podinfo", "--interval=-1m"), "--interval must be positive"},
	} {
		t.Run(strings.Join(tc.args[3:], " "), func(t *testing.T) {
			_, _, err := runFlux(t, "", append(tc.args, "--export")...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
}

// TestCreateSourceHelmChartExportApplies applies every exported
// HelmRepository and HelmChart to the cluster: the API server takes each
// (the CRDs' validation) and reads back the same spec, defaults aside.
func TestCreateSourceHelmChartExportApplies(t *testing.T) {
	ns := env.Namespace(t)
	for _, pattern := range []string{"source-helm-*.yaml", "source-chart-*.yaml"} {
		files, err := filepath.Glob(filepath.Join("testdata", "create", pattern))
		if err != nil || len(files) < 4 {
			t.Fatalf("the %s goldens: %v %v", pattern, files, err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var obj, got client.Object = &sourcev1.HelmRepository{}, &sourcev1.HelmRepository{}
			if strings.Contains(pattern, "chart") {
				obj, got = &sourcev1.HelmChart{}, &sourcev1.HelmChart{}
			}
			if err := yaml.UnmarshalStrict(data, obj); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			want := obj.DeepCopyObject().(client.Object)
			obj.SetNamespace(ns)
			obj.SetName(strings.TrimSuffix(filepath.Base(file), ".yaml"))
			obj.SetLabels(map[string]string{shardKey: unansweredShard}) // nobody reconciles it
			if err := kube.Create(context.Background(), obj); err != nil {
				t.Fatalf("%s is refused by the API server: %v", file, err)
			}
			if err := kube.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err != nil {
				t.Fatal(err)
			}
			switch w := want.(type) {
			case *sourcev1.HelmRepository:
				g := got.(*sourcev1.HelmRepository)
				if w.Spec.Provider == "" {
					w.Spec.Provider = sourcev1.GenericOCIProvider
				}
				if !equality.Semantic.DeepEqual(g.Spec, w.Spec) {
					t.Errorf("%s read back differs:\n got %+v\nwant %+v", file, g.Spec, w.Spec)
				}
			case *sourcev1.HelmChart:
				g := got.(*sourcev1.HelmChart)
				if w.Spec.Version == "" {
					w.Spec.Version = "*"
				}
				if !equality.Semantic.DeepEqual(g.Spec, w.Spec) {
					t.Errorf("%s read back differs:\n got %+v\nwant %+v", file, g.Spec, w.Spec)
				}
			}
		}
	}
}
