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

// TestBucketCommands drives every verb of the issue on a Bucket and a
// Kustomization that reads it, on the local cluster. The Bucket controller
// is not part of this package's cluster: the objects carry a shard label
// no controller watches, and answerRequests writes the status a successful
// fetch would, the moment each command asks (as TestOCIRepositoryCommands).
func TestBucketCommands(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	answerRequests(t, ns, kinds.Bucket(), fillBucket)
	answerRequests(t, ns, kinds.Kustomization(), fillKustomization)
	rev := fakeBucketRevision(&sourcev1.Bucket{Spec: sourcev1.BucketSpec{BucketName: "podinfo"}})
	minio := "--endpoint=minio.minio.svc.cluster.local:9000"

	// create with keys: the Secret bucket-podinfo, referenced; applied,
	// waited for, the revision printed. No key in what is printed.
	_, errOut := mustFlux(t, "", "create", "source", "bucket", "podinfo", "-n", ns, "--bucket-name=podinfo", minio, "--insecure",
		"--access-key="+bucketTestAccessKey, "--secret-key="+bucketTestSecretKey, "--interval=10m", "--label="+answeredLabel, "--timeout=1m")
	wantLines(t, errOut, "► generating Bucket source", "► applying secret with the bucket credentials", "✔ authentication configured",
		"► applying Bucket", "✔ Bucket created", "◎ waiting for Bucket reconciliation", "✔ Bucket podinfo is ready", "✔ fetched revision "+rev)
	if strings.Contains(errOut, bucketTestSecretKey) || strings.Contains(errOut, bucketTestAccessKey) {
		t.Errorf("a key was printed:\n%s", errOut)
	}
	secret := &corev1.Secret{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "bucket-podinfo"}, secret); err != nil ||
		string(secret.Data["accesskey"]) != bucketTestAccessKey || string(secret.Data["secretkey"]) != bucketTestSecretKey || len(secret.Data) != 2 {
		t.Fatalf("Secret bucket-podinfo: %v keys=%d", err, len(secret.Data))
	}
	bucket := &sourcev1.Bucket{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, bucket); err != nil {
		t.Fatal(err)
	}
	if s := bucket.Spec; s.BucketName != "podinfo" || s.Endpoint != "minio.minio.svc.cluster.local:9000" || !s.Insecure ||
		s.Provider != sourcev1.BucketProviderGeneric || s.SecretRef == nil || s.SecretRef.Name != "bucket-podinfo" ||
		s.Interval.Duration != 10*time.Minute {
		t.Fatalf("applied spec: %+v", s)
	}
	// Again with a prefix-free change (the interval): updated in place,
	// the reference kept.
	_, errOut = mustFlux(t, "", "create", "source", "bucket", "podinfo", "-n", ns, "--bucket-name=podinfo", minio, "--insecure",
		"--access-key="+bucketTestAccessKey, "--secret-key="+bucketTestSecretKey, "--interval=5m", "--label="+answeredLabel, "--timeout=1m")
	wantLines(t, errOut, "✔ Bucket updated", "✔ fetched revision "+rev)

	// A Kustomization reading it.
	_, errOut = mustFlux(t, "", "create", "kustomization", "app", "-n", ns, "--source=Bucket/podinfo", "--path=./apps",
		"--prune", "--label="+answeredLabel, "--timeout=1m")
	wantLines(t, errOut, "✔ Kustomization created", "✔ applied revision "+rev)
	ks := &kustomizev1.Kustomization{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, ks); err != nil || ks.Spec.SourceRef.Kind != sourcev1.BucketKind {
		t.Fatalf("Kustomization sourceRef %+v: %v", ks.Spec.SourceRef, err)
	}

	// reconcile: the request annotation, then the answer.
	_, errOut = mustFlux(t, "", "reconcile", "source", "bucket", "podinfo", "-n", ns, "--timeout=1m")
	wantLines(t, errOut, "► annotating Bucket podinfo in "+ns+" namespace", "✔ Bucket annotated",
		"◎ waiting for Bucket reconciliation", "✔ Bucket reconciliation completed", "✔ fetched revision "+rev)
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, bucket); err != nil {
		t.Fatal(err)
	}
	if token := bucket.Annotations[meta.ReconcileRequestAnnotation]; token == "" || token != bucket.Status.LastHandledReconcileAt {
		t.Errorf("requestedAt %q, lastHandledReconcileAt %q", token, bucket.Status.LastHandledReconcileAt)
	}
	// reconcile ks --with-source reconciles the Bucket first.
	_, errOut = mustFlux(t, "", "reconcile", "ks", "app", "-n", ns, "--with-source", "--timeout=1m")
	wantLines(t, errOut, "► annotating Bucket podinfo in "+ns+" namespace", "✔ fetched revision "+rev,
		"► annotating Kustomization app in "+ns+" namespace", "✔ applied revision "+rev)
	if i, j := strings.Index(errOut, "annotating Bucket"), strings.Index(errOut, "annotating Kustomization"); i < 0 || j < i {
		t.Errorf("the Bucket is not reconciled before the Kustomization:\n%s", errOut)
	}

	// get, get sources all, get all.
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"get/sources-bucket.txt", []string{"get", "sources", "bucket"}},
		{"get/sources-bucket-named-wide.txt", []string{"get", "source", "bucket", "podinfo", "-o", "wide"}},
		{"get/sources-all-bucket.txt", []string{"get", "sources", "all"}},
		{"get/all-bucket.txt", []string{"get", "all"}},
		{"get/ks-show-source-bucket.txt", []string{"get", "ks", "--show-source"}},
	} {
		out, errOut, err := runFlux(t, "", append([]string{"-n", ns}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, errOut)
		}
		checkGolden(t, tc.golden, normaliseOCI(out, ns))
	}

	// events: the Bucket's own, and with the Kustomization's.
	recordEvent(t, ns, "podinfo.1", "source.toolkit.fluxcd.io/v1", "Bucket", "podinfo", corev1.EventTypeNormal,
		"NewArtifact", "stored artifact with 12 fetched files from 'podinfo' bucket")
	recordEvent(t, ns, "app.1", "kustomize.toolkit.fluxcd.io/v1", "Kustomization", "app", corev1.EventTypeNormal,
		"ReconciliationSucceeded", "Reconciliation finished")
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"events/for-bucket-source.txt", []string{"--for", "Bucket/podinfo"}},
		{"events/for-kustomization-bucket.txt", []string{"--for", "Kustomization/app"}},
	} {
		out, errOut, err := runEventsPinned(t, append([]string{"-n", ns}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, errOut)
		}
		checkGolden(t, tc.golden, normaliseOCI(out, ns))
		if !strings.Contains(out, "Bucket/podinfo") {
			t.Errorf("events %v lack the Bucket's:\n%s", tc.args, out)
		}
	}

	// describe, with the event.
	out, err := runDescribe(t, "-n", ns, "describe", "source", "bucket", "podinfo")
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "describe/source-bucket.txt", normaliseOCI(out, ns))

	// trace: an object the Kustomization applied leads to the Bucket.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, Labels: map[string]string{
		"kustomize.toolkit.fluxcd.io/name": "app", "kustomize.toolkit.fluxcd.io/namespace": ns}}}
	if err := kube.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	out, _ = mustFlux(t, "", "-n", ns, "trace", "configmap/web")
	checkGolden(t, "trace/configmap-bucket.txt", normaliseOCI(out, ns))

	// export, with the keys' Secret; the YAML applies again elsewhere.
	out, _ = mustFlux(t, "", "-n", ns, "export", "source", "bucket", "podinfo", "--with-credentials")
	checkGolden(t, "export/source-bucket-with-credentials.yaml", normaliseOCI(out, ns))
	checkExportReapplies(t, out, ns, bucket)
	out, _ = mustFlux(t, "", "-n", ns, "export", "source", "bucket", "podinfo")
	checkGolden(t, "export/source-bucket.yaml", normaliseOCI(out, ns))
	if strings.Contains(out, "kind: Secret") {
		t.Errorf("export without --with-credentials has the Secret:\n%s", out)
	}
	out, _ = mustFlux(t, "", "-n", ns, "export", "source", "bucket", "--all")
	if strings.Count(out, "kind: Bucket") != 1 || strings.Contains(out, "kind: Secret") {
		t.Errorf("export source bucket --all:\n%s", out)
	}

	// suspend: spec.suspend, and reconcile refuses; resume waits for the answer.
	_, errOut = mustFlux(t, "", "suspend", "source", "bucket", "podinfo", "-n", ns)
	wantLines(t, errOut, "► suspending source bucket podinfo in "+ns+" namespace", "✔ source bucket suspended")
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, bucket); err != nil || !bucket.Spec.Suspend {
		t.Fatalf("suspend: suspend=%v %v", bucket.Spec.Suspend, err)
	}
	_, _, err = runFlux(t, "", "reconcile", "source", "bucket", "podinfo", "-n", ns)
	if err == nil || !strings.Contains(err.Error(), "is suspended: resume it first with 'flux resume source bucket podinfo -n "+ns+"'") {
		t.Fatalf("reconcile of a suspended Bucket: %v", err)
	}
	out, _ = mustFlux(t, "", "-n", ns, "get", "sources", "bucket")
	if !regexp.MustCompile(`(?m)^podinfo\s+sha256:[0-9a-f]+\s+True\s+True\s`).MatchString(out) {
		t.Errorf("get after suspend does not say SUSPENDED True:\n%s", out)
	}
	_, errOut = mustFlux(t, "", "resume", "source", "bucket", "podinfo", "-n", ns, "--timeout=1m")
	wantLines(t, errOut, "► resuming source bucket podinfo in "+ns+" namespace", "✔ source bucket resumed",
		"◎ waiting for Bucket reconciliation", "✔ fetched revision "+rev)

	// delete: asks first; -s does not.
	_, _, err = runFlux(t, "n\n", "delete", "source", "bucket", "podinfo", "-n", ns)
	if err == nil || !strings.Contains(err.Error(), "aborting") {
		t.Fatalf("delete answered no: %v", err)
	}
	mustFlux(t, "", "delete", "ks", "app", "-n", ns, "-s", "--timeout=1m")
	_, errOut = mustFlux(t, "y\n", "delete", "source", "bucket", "podinfo", "-n", ns, "--timeout=1m")
	wantLines(t, errOut, "Are you sure you want to delete this source bucket? [y/N]", "► deleting source bucket podinfo in "+ns+" namespace",
		"✔ source bucket deleted")
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, &sourcev1.Bucket{}); !apierrors.IsNotFound(err) {
		t.Fatalf("Bucket still there: %v", err)
	}
}

// checkExportReapplies applies the documents of `export source bucket
// --with-credentials` in another namespace: the Bucket reads back with
// the spec of want, and the Secret with the keys the test gave.
func checkExportReapplies(t *testing.T, out, ns string, want *sourcev1.Bucket) {
	t.Helper()
	ctx := context.Background()
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
		if u["kind"] == sourcev1.BucketKind {
			obj = &sourcev1.Bucket{}
		}
		if err := yaml.Unmarshal([]byte(doc), obj); err != nil {
			t.Fatal(err)
		}
		if err := kube.Create(ctx, obj); err != nil {
			t.Fatalf("applying the export: %v\n%s", err, doc)
		}
	}
	copied := &sourcev1.Bucket{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: other, Name: want.Name}, copied); err != nil || !equality.Semantic.DeepEqual(copied.Spec, want.Spec) {
		t.Errorf("exported Bucket applied elsewhere: %v\n%+v\nwant %+v", err, copied.Spec, want.Spec)
	}
	secret := &corev1.Secret{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: other, Name: "bucket-" + want.Name}, secret); err != nil ||
		string(secret.Data["accesskey"]) != bucketTestAccessKey || string(secret.Data["secretkey"]) != bucketTestSecretKey {
		t.Errorf("exported Secret applied elsewhere: %v (%d keys)", err, len(secret.Data))
	}
}
