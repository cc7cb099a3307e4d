package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// writeFile writes data to a file of a fresh temporary directory.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCreateSourceHelmMutualTLS: `create source helm` with basic auth,
// a client certificate and a CA writes the Secret helm-<name>, and the
// real HelmRepository controller reads the index with it: the command
// waits for Ready and prints the revision of the index.
func TestCreateSourceHelmMutualTLS(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{ClientCert: true, Username: "flux", Password: "s3cret"})
	kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	crt, key, ca := writeFile(t, "tls.crt", kit.ClientCertPEM), writeFile(t, "tls.key", kit.ClientKeyPEM), writeFile(t, "ca.crt", kit.CAPEM)

	_, errOut := mustFlux(t, "", "create", "source", "helm", "secure", "-n", ns, "--url="+kit.URL, "-u", "flux", "-p", "s3cret",
		"--cert-file="+crt, "--key-file="+key, "--ca-file="+ca, "--timeout=2m")
	wantLines(t, errOut, "► generating HelmRepository source", "► applying secret with repository credentials",
		"✔ authentication configured", "✔ HelmRepository created", "◎ waiting for HelmRepository reconciliation",
		"✔ HelmRepository secure is ready", "✔ fetched revision sha256:")
	secret := &corev1.Secret{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "helm-secure"}, secret); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string][]byte{"username": []byte("flux"), "password": []byte("s3cret"),
		"tls.crt": kit.ClientCertPEM, "tls.key": kit.ClientKeyPEM, "ca.crt": kit.CAPEM} {
		if string(secret.Data[k]) != string(want) {
			t.Errorf("Secret helm-secure key %s = %q", k, secret.Data[k])
		}
	}
	repo := &sourcev1.HelmRepository{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "secure"}, repo); err != nil {
		t.Fatal(err)
	}
	if repo.Spec.SecretRef == nil || repo.Spec.SecretRef.Name != "helm-secure" ||
		repo.Spec.CertSecretRef == nil || repo.Spec.CertSecretRef.Name != "helm-secure" {
		t.Errorf("references: secretRef %+v, certSecretRef %+v", repo.Spec.SecretRef, repo.Spec.CertSecretRef)
	}
	// No Secret value in what the command printed.
	if strings.Contains(errOut, "s3cret") {
		t.Errorf("the password is printed:\n%s", errOut)
	}

	// Wrong credentials: the controller's failure is the command's error.
	_, _, err := runFlux(t, "", "create", "source", "helm", "wrong", "-n", ns, "--url="+kit.URL, "-u", "flux", "-p", "guess",
		"--cert-file="+crt, "--key-file="+key, "--ca-file="+ca, "--timeout=2m")
	if err == nil || !strings.Contains(err.Error(), "HelmRepository "+ns+"/wrong reconciliation failed") || strings.Contains(err.Error(), "guess") {
		t.Errorf("wrong password: %v", err)
	}
}

// TestHelmSourceCommands drives every verb of the catalogue on a
// HelmRepository and a HelmChart of it, reconciled by the real controllers
// from the kit's chart repository, on the local cluster.
func TestHelmSourceCommands(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{Username: "flux", Password: "s3cret"})
	kit.MustPublish(t, helmtest.ConfigMapChart("podinfo", "6.1.0"))

	_, errOut := mustFlux(t, "", "create", "source", "helm", "podinfo", "-n", ns, "--url="+kit.URL, "-u", "flux", "-p", "s3cret",
		"--interval=10m", "--timeout=2m")
	wantLines(t, errOut, "✔ HelmRepository created", "✔ HelmRepository podinfo is ready", "✔ fetched revision sha256:")
	repo := &sourcev1.HelmRepository{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, repo); err != nil {
		t.Fatal(err)
	}
	firstRevision := repo.Status.Artifact.Revision

	_, errOut = mustFlux(t, "", "create", "source", "chart", "podinfo", "-n", ns, "--source=HelmRepository/podinfo", "--chart=podinfo",
		"--chart-version=6.x", "--timeout=1m")
	wantLines(t, errOut, "► generating HelmChart source", "✔ HelmChart created", "✔ HelmChart podinfo is ready", "✔ fetched revision 6.1.0")

	// A new version: reconcile --with-source fetches the index first.
	kit.MustPublish(t, helmtest.ConfigMapChart("podinfo", "6.2.0"))
	_, errOut = mustFlux(t, "", "reconcile", "source", "chart", "podinfo", "-n", ns, "--with-source", "--timeout=2m")
	wantLines(t, errOut, "► annotating HelmRepository podinfo in "+ns+" namespace", "✔ HelmRepository reconciliation completed",
		"► annotating HelmChart podinfo in "+ns+" namespace", "✔ HelmChart reconciliation completed", "✔ fetched revision 6.2.0")
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, repo); err != nil {
		t.Fatal(err)
	}
	if token := repo.Annotations[meta.ReconcileRequestAnnotation]; token == "" || token != repo.Status.LastHandledReconcileAt ||
		repo.Status.Artifact.Revision == firstRevision || !strings.Contains(errOut, "✔ fetched revision "+repo.Status.Artifact.Revision) {
		t.Errorf("the HelmRepository was not reconciled first: requestedAt %q, handled %q, revision %s (was %s)\n%s", token,
			repo.Status.LastHandledReconcileAt, repo.Status.Artifact.Revision, firstRevision, errOut)
	}

	// A HelmRepository of type oci is static: nothing to wait for, Ready
	// in get, and reconcile says it is not supported, as Flux.
	_, errOut = mustFlux(t, "", "create", "source", "helm", "registry", "-n", ns, "--url=oci://127.0.0.1:5000/charts", "--timeout=1m")
	wantLines(t, errOut, "✔ HelmRepository created", "✔ HelmRepository registry is a static object: ready to be used")
	if strings.Contains(errOut, "waiting for") {
		t.Errorf("create waited for a static object:\n%s", errOut)
	}
	_, errOut = mustFlux(t, "", "reconcile", "source", "helm", "registry", "-n", ns)
	wantLines(t, errOut, "✔ reconciliation not supported by the object")

	// get: the columns Flux prints, a static one Ready.
	out, _ := mustFlux(t, "", "-n", ns, "get", "sources", "helm")
	wantRows(t, out, `^NAME\s+REVISION\s+SUSPENDED\s+READY\s+MESSAGE`,
		`^podinfo\s+sha256:[0-9a-f]+\s+False\s+True\s+stored artifact for revision 'sha256:[0-9a-f]+'`,
		`^registry\s+False\s+True\s+Helm repository is Ready`)
	out, _ = mustFlux(t, "", "-n", ns, "get", "sources", "chart", "-o", "wide")
	wantRows(t, out, `^NAME\s+REVISION\s+SUSPENDED\s+READY\s+MESSAGE\s+INTERVAL\s+CHART\s+VERSION\s+SOURCE`,
		`^podinfo\s+6\.2\.0\s+False\s+True\s+pulled 'podinfo' chart with version '6\.2\.0'\s+1m0s\s+podinfo\s+6\.x\s+HelmRepository/podinfo`)
	out, _ = mustFlux(t, "", "-n", ns, "get", "sources", "all")
	wantRows(t, out, `^helmrepository/podinfo\s+sha256:`, `^helmrepository/registry\s+False\s+True`, `^helmchart/podinfo\s+6\.2\.0\s+False\s+True`)
	out, _ = mustFlux(t, "", "-n", ns, "get", "all")
	wantRows(t, out, `^helmrepository/podinfo\s+sha256:`, `^helmchart/podinfo\s+6\.2\.0`)
	out, _ = mustFlux(t, "", "-n", ns, "get", "sources", "helm", "--status-selector", "ready=true")
	wantRows(t, out, `^registry\s+False\s+True`)

	// stats counts both kinds.
	out, _ = mustFlux(t, "", "-n", ns, "stats")
	wantRows(t, out, `^HelmRepository\s+2\s+0\s+0\s`, `^HelmChart\s+1\s+0\s+0\s+[0-9.]+ (B|KiB)$`)

	// describe and trace show the chart's spec and its source.
	out, err := runDescribe(t, "-n", ns, "describe", "source", "chart", "podinfo")
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, out, `^\s*Chart:\s+podinfo$`, `^\s*Version:\s+6\.x$`, `^\s*Source:\s+HelmRepository/podinfo$`,
		`^\s*Reconcile Strategy:\s+ChartVersion$`, `^\s*Revision:\s+6\.2\.0$`)
	out, err = runDescribe(t, "-n", ns, "describe", "source", "helm", "podinfo")
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, out, `^\s*URL:\s+`+regexp.QuoteMeta(kit.URL)+`$`, `^\s*Type:\s+default$`, `^\s*Secret:\s+helm-podinfo$`)

	// events --for HelmChart/x shows its source's events too.
	recordEvent(t, ns, "podinfo-chart.1", "source.toolkit.fluxcd.io/v1", "HelmChart", "podinfo", corev1.EventTypeNormal,
		"ChartPullSucceeded", "pulled 'podinfo' chart with version '6.2.0'")
	recordEvent(t, ns, "podinfo-repo.1", "source.toolkit.fluxcd.io/v1", "HelmRepository", "podinfo", corev1.EventTypeNormal,
		"NewArtifact", "stored fetched index of size 1.2kB from '"+kit.URL+"'")
	recordEvent(t, ns, "registry.1", "source.toolkit.fluxcd.io/v1", "HelmRepository", "registry", corev1.EventTypeNormal,
		"Other", "an event of another object")
	out, _, err = runEventsPinned(t, "-n", ns, "--for", "HelmChart/podinfo")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out, "HelmChart/podinfo", "pulled 'podinfo' chart with version '6.2.0'", "HelmRepository/podinfo", "stored fetched index")
	if strings.Contains(out, "another object") {
		t.Errorf("events --for HelmChart/podinfo shows an unrelated object's:\n%s", out)
	}

	// export --with-credentials: the HelmRepository and its Secret.
	out, _ = mustFlux(t, "", "-n", ns, "export", "source", "helm", "podinfo", "--with-credentials")
	wantLines(t, out, "kind: HelmRepository", "name: podinfo", "kind: Secret", "name: helm-podinfo", "secretRef:\n    name: helm-podinfo")
	out, _ = mustFlux(t, "", "-n", ns, "export", "source", "chart", "--all")
	wantLines(t, out, "kind: HelmChart", "chart: podinfo", "version: 6.x", "kind: HelmRepository\n    name: podinfo")

	// suspend and resume: resume waits for a HelmChart, not for a static HelmRepository.
	_, errOut = mustFlux(t, "", "suspend", "source", "chart", "podinfo", "-n", ns)
	wantLines(t, errOut, "✔ source chart suspended")
	hc := &sourcev1.HelmChart{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, hc); err != nil || !hc.Spec.Suspend {
		t.Fatalf("suspend: %v %v", hc.Spec.Suspend, err)
	}
	_, errOut = mustFlux(t, "", "resume", "source", "chart", "podinfo", "-n", ns, "--timeout=1m")
	wantLines(t, errOut, "✔ source chart resumed", "◎ waiting for HelmChart reconciliation", "✔ fetched revision 6.2.0")
	mustFlux(t, "", "suspend", "source", "helm", "registry", "-n", ns)
	_, errOut = mustFlux(t, "", "resume", "source", "helm", "registry", "-n", ns, "--timeout=1m")
	if !strings.Contains(errOut, "✔ source helm resumed") || strings.Contains(errOut, "waiting for") {
		t.Errorf("resume of a static HelmRepository:\n%s", errOut)
	}

	// delete.
	for _, args := range [][]string{{"chart", "podinfo"}, {"helm", "registry"}, {"helm", "podinfo"}} {
		_, errOut = mustFlux(t, "", append([]string{"delete", "source", "-n", ns, "-s", "--timeout=1m"}, args...)...)
		wantLines(t, errOut, "✔ source "+args[0]+" deleted")
	}
	for _, obj := range []client.Object{&sourcev1.HelmChart{}, &sourcev1.HelmRepository{}} {
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T still there: %v", obj, err)
		}
	}
}

// wantRows checks that each pattern matches a line of out.
func wantRows(t *testing.T, out string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile("(?m)" + p).MatchString(out) {
			t.Errorf("no line matches %s in:\n%s", p, out)
		}
	}
}
