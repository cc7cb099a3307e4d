package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

// rfc3339NanoRE matches the requestedAt tokens the CLI writes.
var rfc3339NanoRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)

// TestOCIRepositoryCommands drives every verb of the catalogue on an
// OCIRepository and a Kustomization that reads it, on the local cluster.
// No OCIRepository controller runs here yet: the objects carry a shard
// label no controller of the cluster watches, and answerRequests writes
// the status a successful pull would, the moment each command asks.
func TestOCIRepositoryCommands(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	answerRequests(t, ns, kinds.OCIRepository(), fillOCIRepository)
	answerRequests(t, ns, kinds.Kustomization(), fillKustomization)
	fakeDigest := fakeManifestDigest

	// The pull Secret of `flux create secret oci` is the one secretRef names.
	mustFlux(t, "", "create", "secret", "oci", "podinfo-auth", "-n", ns, "--url=ghcr.io", "-u", "flux", "-p", "s3cret")

	// create: applied, waited for, the revision printed; read back.
	_, errOut := mustFlux(t, "", "create", "source", "oci", "podinfo", "-n", ns, podinfoOCI, "--tag=6.6.2", "--interval=10m",
		"--secret-ref=podinfo-auth", "--label="+answeredLabel, "--timeout=1m")
	wantLines(t, errOut, "► generating OCIRepository source", "► applying OCIRepository", "✔ OCIRepository created",
		"◎ waiting for OCIRepository reconciliation", "✔ OCIRepository podinfo is ready", "✔ fetched revision 6.6.2@"+fakeDigest)
	repo := &sourcev1.OCIRepository{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, repo); err != nil {
		t.Fatal(err)
	}
	if s := repo.Spec; s.URL != "oci://ghcr.io/stefanprodan/manifests/podinfo" || s.Reference == nil || s.Reference.Tag != "6.6.2" ||
		s.SecretRef == nil || s.SecretRef.Name != "podinfo-auth" || s.Interval.Duration != 10*time.Minute {
		t.Fatalf("applied spec: %+v", s)
	}
	// Again with another tag: updated in place.
	_, errOut = mustFlux(t, "", "create", "source", "oci", "podinfo", "-n", ns, podinfoOCI, "--tag=6.6.3", "--interval=10m",
		"--secret-ref=podinfo-auth", "--label="+answeredLabel, "--timeout=1m")
	wantLines(t, errOut, "✔ OCIRepository updated", "✔ fetched revision 6.6.3@"+fakeDigest)

	// A Kustomization reading it.
	_, errOut = mustFlux(t, "", "create", "kustomization", "app", "-n", ns, "--source=OCIRepository/podinfo", "--path=./",
		"--prune", "--label="+answeredLabel, "--timeout=1m")
	wantLines(t, errOut, "✔ Kustomization created", "✔ applied revision 6.6.3@"+fakeDigest)
	ks := &kustomizev1.Kustomization{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, ks); err != nil || ks.Spec.SourceRef.Kind != sourcev1.OCIRepositoryKind {
		t.Fatalf("Kustomization sourceRef %+v: %v", ks.Spec.SourceRef, err)
	}
	// A GitRepository nobody reconciles, to see both kinds of source.
	git := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: ns, Labels: map[string]string{shardKey: unansweredShard}},
		Spec:       sourcev1.GitRepositorySpec{URL: "https://git.example.com/other.git", Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := kube.Create(ctx, git); err != nil {
		t.Fatal(err)
	}

	// reconcile: the request annotation, then the answer.
	_, errOut = mustFlux(t, "", "reconcile", "source", "oci", "podinfo", "-n", ns, "--timeout=1m")
	wantLines(t, errOut, "► annotating OCIRepository podinfo in "+ns+" namespace", "✔ OCIRepository annotated",
		"◎ waiting for OCIRepository reconciliation", "✔ OCIRepository reconciliation completed", "✔ fetched revision 6.6.3@"+fakeDigest)
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, repo); err != nil {
		t.Fatal(err)
	}
	if token := repo.Annotations[meta.ReconcileRequestAnnotation]; token == "" || token != repo.Status.LastHandledReconcileAt {
		t.Errorf("requestedAt %q, lastHandledReconcileAt %q", token, repo.Status.LastHandledReconcileAt)
	}
	// reconcile ks --with-source finds the OCIRepository through the catalogue.
	_, errOut = mustFlux(t, "", "reconcile", "ks", "app", "-n", ns, "--with-source", "--timeout=1m")
	wantLines(t, errOut, "► annotating OCIRepository podinfo in "+ns+" namespace", "✔ fetched revision 6.6.3@"+fakeDigest,
		"► annotating Kustomization app in "+ns+" namespace", "✔ applied revision 6.6.3@"+fakeDigest)

	// get, get sources all, get all.
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"get/sources-oci.txt", []string{"get", "sources", "oci"}},
		{"get/sources-oci-named-wide.txt", []string{"get", "source", "oci", "podinfo", "-o", "wide"}},
		{"get/sources-all-oci.txt", []string{"get", "sources", "all"}},
		{"get/all-oci.txt", []string{"get", "all"}},
		{"get/ks-show-source-oci.txt", []string{"get", "ks", "--show-source"}},
	} {
		out, errOut, err := runFlux(t, "", append([]string{"-n", ns}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, errOut)
		}
		checkGolden(t, tc.golden, normaliseOCI(out, ns))
	}

	// events: the OCIRepository's own, and with the Kustomization's.
	recordEvent(t, ns, "podinfo.1", "source.toolkit.fluxcd.io/v1", "OCIRepository", "podinfo", corev1.EventTypeNormal,
		"NewArtifact", "stored artifact with revision '6.6.3@"+fakeDigest+"' from 'oci://ghcr.io/stefanprodan/manifests/podinfo'")
	recordEvent(t, ns, "app.1", "kustomize.toolkit.fluxcd.io/v1", "Kustomization", "app", corev1.EventTypeNormal,
		"ReconciliationSucceeded", "Reconciliation finished")
	recordEvent(t, ns, "other.1", "source.toolkit.fluxcd.io/v1", "GitRepository", "other", corev1.EventTypeWarning,
		"GitOperationFailed", "failed to checkout and determine revision")
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"events/for-oci-source.txt", []string{"--for", "OCIRepository/podinfo"}},
		{"events/for-kustomization-oci.txt", []string{"--for", "Kustomization/app"}},
	} {
		out, errOut, err := runEventsPinned(t, append([]string{"-n", ns}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, errOut)
		}
		checkGolden(t, tc.golden, normaliseOCI(out, ns))
	}

	// describe, with the event.
	out, err := runDescribe(t, "-n", ns, "describe", "source", "oci", "podinfo")
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "describe/source-oci.txt", normaliseOCI(out, ns))

	// trace: an object the Kustomization applied leads to the OCIRepository
	// and where its content came from.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, Labels: map[string]string{
		"kustomize.toolkit.fluxcd.io/name": "app", "kustomize.toolkit.fluxcd.io/namespace": ns}}}
	if err := kube.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	out, _ = mustFlux(t, "", "-n", ns, "trace", "configmap/web")
	checkGolden(t, "trace/configmap-oci.txt", normaliseOCI(out, ns))

	// export, with the pull Secret; the YAML applies again elsewhere.
	out, _ = mustFlux(t, "", "-n", ns, "export", "source", "oci", "podinfo", "--with-credentials")
	checkGolden(t, "export/source-oci-with-credentials.yaml", normaliseOCI(out, ns))
	other := env.Namespace(t)
	for _, doc := range strings.Split(strings.ReplaceAll(out, ns, other), "---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		u := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &u); err != nil {
			t.Fatal(err)
		}
		var obj client.Object = &corev1.Secret{}
		if u["kind"] == sourcev1.OCIRepositoryKind {
			obj = &sourcev1.OCIRepository{}
		}
		if err := yaml.Unmarshal([]byte(doc), obj); err != nil {
			t.Fatal(err)
		}
		if err := kube.Create(ctx, obj); err != nil {
			t.Fatalf("applying the export: %v\n%s", err, doc)
		}
	}
	copied := &sourcev1.OCIRepository{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: other, Name: "podinfo"}, copied); err != nil || !equality.Semantic.DeepEqual(copied.Spec, repo.Spec) {
		t.Errorf("exported OCIRepository applied elsewhere: %v\n%+v\nwant %+v", err, copied.Spec, repo.Spec)
	}
	secret := &corev1.Secret{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: other, Name: "podinfo-auth"}, secret); err != nil ||
		secret.Type != corev1.SecretTypeDockerConfigJson || !strings.Contains(string(secret.Data[".dockerconfigjson"]), `"ghcr.io"`) {
		t.Errorf("exported pull Secret applied elsewhere: %v %s %s", err, secret.Type, secret.Data[".dockerconfigjson"])
	}
	out, _ = mustFlux(t, "", "-n", ns, "export", "source", "oci", "--all")
	if strings.Count(out, "kind: OCIRepository") != 1 || strings.Contains(out, "kind: Secret") {
		t.Errorf("export source oci --all:\n%s", out)
	}

	// suspend: spec.suspend, and reconcile refuses; resume waits for the answer.
	_, errOut = mustFlux(t, "", "suspend", "source", "oci", "podinfo", "-n", ns)
	wantLines(t, errOut, "► suspending source oci podinfo in "+ns+" namespace", "✔ source oci suspended")
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, repo); err != nil || !repo.Spec.Suspend {
		t.Fatalf("suspend: suspend=%v %v", repo.Spec.Suspend, err)
	}
	_, _, err = runFlux(t, "", "reconcile", "source", "oci", "podinfo", "-n", ns)
	if err == nil || !strings.Contains(err.Error(), "is suspended: resume it first with 'flux resume source oci podinfo -n "+ns+"'") {
		t.Fatalf("reconcile of a suspended OCIRepository: %v", err)
	}
	out, _ = mustFlux(t, "", "-n", ns, "get", "sources", "oci")
	if !regexp.MustCompile(`(?m)^podinfo\s+6\.6\.3@sha256:[0-9a-f]+\s+True\s+True\s`).MatchString(out) {
		t.Errorf("get after suspend does not say SUSPENDED True:\n%s", out)
	}
	_, errOut = mustFlux(t, "", "resume", "source", "oci", "podinfo", "-n", ns, "--timeout=1m")
	wantLines(t, errOut, "► resuming source oci podinfo in "+ns+" namespace", "✔ source oci resumed",
		"◎ waiting for OCIRepository reconciliation", "✔ fetched revision 6.6.3@"+fakeDigest)

	// delete: asks first; -s does not.
	_, _, err = runFlux(t, "n\n", "delete", "source", "oci", "podinfo", "-n", ns)
	if err == nil || !strings.Contains(err.Error(), "aborting") {
		t.Fatalf("delete answered no: %v", err)
	}
	mustFlux(t, "", "delete", "ks", "app", "-n", ns, "-s", "--timeout=1m")
	_, errOut = mustFlux(t, "y\n", "delete", "source", "oci", "podinfo", "-n", ns, "--timeout=1m")
	wantLines(t, errOut, "Are you sure you want to delete this source oci? [y/N]", "► deleting source oci podinfo in "+ns+" namespace",
		"✔ source oci deleted")
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, &sourcev1.OCIRepository{}); !apierrors.IsNotFound(err) {
		t.Fatalf("OCIRepository still there: %v", err)
	}
}

// TestOCIRepositoryWithoutController: what the commands that wait do
// while no controller answers: they ask (the object is applied, the
// request annotation set) and, at --timeout, say what they waited for and
// how to look.
func TestOCIRepositoryWithoutController(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	_, errOut, err := runFlux(t, "", "create", "source", "oci", "lonely", "-n", ns, podinfoOCI, "--tag-semver=6.x",
		"--label="+unansweredLabel, "--timeout=2s")
	want := "timed out waiting for OCIRepository " + ns + "/lonely (no status yet); check it with 'flux get sources oci lonely -n " + ns +
		"' or wait longer with --timeout"
	if err == nil || err.Error() != want {
		t.Fatalf("create without a controller: want %q, got %v\n%s", want, err, errOut)
	}
	wantLines(t, errOut, "✔ OCIRepository created", "◎ waiting for OCIRepository reconciliation")
	repo := &sourcev1.OCIRepository{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "lonely"}, repo); err != nil || repo.Spec.Reference.SemVer != "6.x" {
		t.Fatalf("the OCIRepository was not applied: %+v %v", repo.Spec, err)
	}

	_, _, err = runFlux(t, "", "reconcile", "source", "oci", "lonely", "-n", ns, "--timeout=2s")
	if err == nil || !strings.Contains(err.Error(), "timed out waiting for OCIRepository "+ns+"/lonely") {
		t.Fatalf("reconcile without a controller: %v", err)
	}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "lonely"}, repo); err != nil {
		t.Fatal(err)
	}
	if token := repo.Annotations[meta.ReconcileRequestAnnotation]; !rfc3339NanoRE.MatchString(token) || repo.Status.LastHandledReconcileAt != "" {
		t.Errorf("requestedAt %q (want a time), lastHandledReconcileAt %q (want none)", token, repo.Status.LastHandledReconcileAt)
	}

	// get shows it not reconciled yet; trace and describe read it.
	out, _ := mustFlux(t, "", "-n", ns, "get", "sources", "oci")
	checkGolden(t, "get/sources-oci-unreconciled.txt", normaliseOCI(out, ns))

	_, _, err = runFlux(t, "", "reconcile", "source", "oci", "nope", "-n", ns)
	if err == nil || !strings.Contains(err.Error(), "OCIRepository "+ns+"/nope not found: list them with 'flux get sources oci -n "+ns+"'") {
		t.Fatalf("reconcile of a missing OCIRepository: %v", err)
	}
}

// normaliseOCI is normalise, with the request tokens the CLI writes and
// the ages of the tables replaced.
func normaliseOCI(s, ns string) string {
	return rfc3339NanoRE.ReplaceAllString(normalise(s, ns), "<time>")
}
