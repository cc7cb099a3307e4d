package bucket_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/s3test"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// fluxRevision is Flux's Bucket revision computed by hand: the keys
// sorted, one line "<key> <etag>\n" each, hashed with sha256.
func fluxRevision(etags map[string]string) string {
	keys := make([]string, 0, len(etags))
	for k := range etags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s %s\n", k, strings.Trim(etags[k], `"`))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// files reads the artifact at url into path → content.
func files(t *testing.T, url string) map[string]string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			out[h.Name] = string(b)
		}
	}
}

// downloads is how many objects the proxy saw downloaded: every GET of a
// key but the .sourceignore, which each listing reads (it decides what
// the revision counts).
func downloads(p *s3test.CountingProxy) int { return p.TotalGets() - p.Gets(".sourceignore") }

// keysSecret is a Secret with s's keys, named after s's port: each test
// server has its own keys.
func keysSecret(t *testing.T, ns string, s *s3test.Server) *meta.LocalObjectReference {
	_, port, _ := strings.Cut(s.Endpoint, ":")
	return secret(t, ns, "keys-"+port, map[string][]byte{"accesskey": []byte(s.AccessKey), "secretkey": []byte(s.SecretKey)})
}

// TestBucketLifecycle: a bucket's objects become an artifact whose revision
// is Flux's; a poll without a change lists only; an overwrite downloads
// only that object; a deletion drops it; deleting the Bucket removes its
// storage.
func TestBucketLifecycle(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "fleet")
	etags := map[string]string{
		"apps/podinfo.yaml": s.Put(t, "fleet", "apps/podinfo.yaml", []byte("kind: ConfigMap\n")),
		"docs/readme.md":    s.Put(t, "fleet", "docs/readme.md", []byte("# docs\n")),
		"apps/nginx.yaml":   s.Put(t, "fleet", "apps/nginx.yaml", []byte("kind: Secret\n")),
	}
	proxy := s.NewCountingProxy(t)
	obj := create(t, ns, "fleet", sourcev1.BucketSpec{BucketName: "fleet", Endpoint: proxy.Endpoint(), Insecure: true, SecretRef: keysSecret(t, ns, s)})

	got := waitRevision(t, obj, fluxRevision(etags))
	if want := "stored artifact for revision '" + fluxRevision(etags) + "'"; condition(got, meta.ReadyCondition).Message != want {
		t.Errorf("Ready message %q, want %q", condition(got, meta.ReadyCondition).Message, want)
	}
	if !strings.HasSuffix(got.Status.URL, "/bucket/"+ns+"/fleet/latest.tar.gz") {
		t.Errorf("status.url %q", got.Status.URL)
	}
	if f := files(t, got.Status.Artifact.URL); len(f) != 3 || f["apps/podinfo.yaml"] != "kind: ConfigMap\n" || f["docs/readme.md"] != "# docs\n" {
		t.Errorf("artifact files %v", f)
	}
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, "", "stored artifact with 3 fetched files from 'fleet' bucket")
	if n := downloads(proxy); n != 3 {
		t.Errorf("first fetch: %d GETs, want 3\n%s", n, strings.Join(proxy.Requests(), "\n"))
	}
	for _, r := range proxy.Requests() {
		if strings.HasPrefix(r, "HEAD /fleet/") && r != "HEAD /fleet/" {
			t.Errorf("an object was asked about before its GET (%s): one request per object is enough", r)
		}
	}

	// A poll without a change: listing only.
	proxy.Reset()
	token := requestReconcile(t, obj)
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "reconcile "+token, func(o *sourcev1.Bucket) bool {
		return o.Status.LastHandledReconcileAt == token
	})
	if n := downloads(proxy); n != 0 || proxy.Lists() == 0 {
		t.Errorf("a poll without a change: %d GETs and %d listings, want 0 and some\n%s", n, proxy.Lists(), strings.Join(proxy.Requests(), "\n"))
	}

	// One object overwritten: one GET, the rest from the stored artifact.
	proxy.Reset()
	etags["apps/podinfo.yaml"] = s.Put(t, "fleet", "apps/podinfo.yaml", []byte("kind: ConfigMap\nmetadata: {}\n"))
	requestReconcile(t, obj)
	got = waitRevision(t, obj, fluxRevision(etags))
	if n, one := downloads(proxy), proxy.Gets("apps/podinfo.yaml"); n != 1 || one != 1 {
		t.Errorf("after one overwrite: %d GETs (%d of the changed key), want 1\n%s", n, one, strings.Join(proxy.Requests(), "\n"))
	}
	if f := files(t, got.Status.Artifact.URL); len(f) != 3 || f["apps/podinfo.yaml"] != "kind: ConfigMap\nmetadata: {}\n" || f["apps/nginx.yaml"] != "kind: Secret\n" {
		t.Errorf("artifact files after the overwrite %v", f)
	}

	// One object deleted: it leaves the artifact.
	s.Delete(t, "fleet", "docs/readme.md")
	delete(etags, "docs/readme.md")
	requestReconcile(t, obj)
	got = waitRevision(t, obj, fluxRevision(etags))
	if f := files(t, got.Status.Artifact.URL); len(f) != 2 || f["docs/readme.md"] != "" {
		t.Errorf("artifact files after the deletion %v", f)
	}

	// Deleting the Bucket removes its storage.
	if err := kube.Delete(ctx, got); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, 30*time.Second, "Bucket gone", func() (bool, error) {
		err := kube.Get(ctx, client.ObjectKeyFromObject(got), &sourcev1.Bucket{})
		return apierrors.IsNotFound(err), nil
	})
	if _, err := os.Stat(filepath.Join(storageDir, "bucket", ns, "fleet")); !os.IsNotExist(err) {
		t.Errorf("storage of the deleted Bucket: %v, want gone", err)
	}
}

// TestBucketPrefixAndIgnore: only the prefix is listed; .sourceignore at
// the bucket's root and spec.ignore drop keys from the revision and the
// artifact alike.
func TestBucketPrefixAndIgnore(t *testing.T) {
	ns := env.Namespace(t)
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "site")
	s.Put(t, "site", ".sourceignore", []byte("*.md\n"))
	s.Put(t, "site", "other/x.yaml", []byte("x"))
	keep := map[string]string{"prod/app.yaml": s.Put(t, "site", "prod/app.yaml", []byte("a"))}
	s.Put(t, "site", "prod/notes.md", []byte("ignored by .sourceignore"))
	s.Put(t, "site", "prod/tmp/scratch.yaml", []byte("ignored by spec.ignore"))
	ignore := "tmp/\n"
	obj := create(t, ns, "site", sourcev1.BucketSpec{BucketName: "site", Endpoint: s.Endpoint, Insecure: true, Prefix: "prod/",
		Ignore: &ignore, SecretRef: keysSecret(t, ns, s)})
	got := waitRevision(t, obj, fluxRevision(keep))
	if f := files(t, got.Status.Artifact.URL); len(f) != 1 || f["prod/app.yaml"] != "a" {
		t.Errorf("artifact files %v, want prod/app.yaml alone", f)
	}
	if got.Status.ObservedIgnore == nil || *got.Status.ObservedIgnore != ignore {
		t.Errorf("observedIgnore %v", got.Status.ObservedIgnore)
	}
}

// TestBucketStalls: providers that would need cloud identity stall with
// InvalidProviderConfiguration saying what works, and an endpoint with a
// scheme stalls with URLInvalid saying the expected form.
func TestBucketStalls(t *testing.T) {
	ns := env.Namespace(t)
	keys := secret(t, ns, "keys", map[string][]byte{"accesskey": []byte("a"), "secretkey": []byte("b")})
	for _, tc := range []struct {
		name   string
		spec   sourcev1.BucketSpec
		reason string
		says   string
	}{
		{"aws-without-secret", sourcev1.BucketSpec{Provider: "aws", BucketName: "b", Endpoint: "s3.amazonaws.com"},
			sourcev1.InvalidProviderConfigurationReason, "set secretRef"},
		{"gcp", sourcev1.BucketSpec{Provider: "gcp", BucketName: "b", Endpoint: "storage.googleapis.com"},
			sourcev1.InvalidProviderConfigurationReason, "provider generic with endpoint storage.googleapis.com and HMAC keys"},
		{"azure", sourcev1.BucketSpec{Provider: "azure", BucketName: "b", Endpoint: "x.blob.core.windows.net"},
			sourcev1.InvalidProviderConfigurationReason, "azure"},
		{"scheme", sourcev1.BucketSpec{BucketName: "b", Endpoint: "https://minio.example.com", SecretRef: keys},
			sourcev1.URLInvalidReason, "insecure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := create(t, ns, tc.name, tc.spec)
			got := waitCondition(t, obj, meta.StalledCondition, metav1.ConditionTrue, tc.reason)
			if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, tc.says) {
				t.Errorf("Ready message %q lacks %q", msg, tc.says)
			}
		})
	}
}

// TestBucketNeverUsesTheControllersCredentials: with the server's own keys
// in the controller's environment (AWS_ACCESS_KEY_ID and the rest, as an
// instance profile or IRSA would give the process), a Bucket without
// secretRef still asks anonymously and is refused: the controller's
// identity serves every tenant, so it is never a Bucket's.
func TestBucketNeverUsesTheControllersCredentials(t *testing.T) {
	ns := env.Namespace(t)
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "private")
	s.Put(t, "private", "secret.yaml", []byte("kind: Secret\n"))
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": s.AccessKey, "AWS_SECRET_ACCESS_KEY": s.SecretKey,
		"MINIO_ACCESS_KEY": s.AccessKey, "MINIO_SECRET_KEY": s.SecretKey} {
		t.Setenv(k, v)
	}
	for _, provider := range []string{"generic", "aws"} {
		obj := create(t, ns, "anonymous-"+provider, sourcev1.BucketSpec{Provider: provider, BucketName: "private", Endpoint: s.Endpoint, Insecure: true})
		var got *sourcev1.Bucket
		if provider == "aws" {
			got = waitCondition(t, obj, meta.StalledCondition, metav1.ConditionTrue, sourcev1.InvalidProviderConfigurationReason)
		} else {
			got = waitCondition(t, obj, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.AuthenticationFailedReason)
			if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, "anonymous") {
				t.Errorf("%s: Ready message %q does not say the request was anonymous", provider, msg)
			}
		}
		if got.Status.Artifact != nil {
			t.Errorf("%s: an artifact was stored with the controller's credentials", provider)
		}
	}
}

// TestBucketBadCredentials: wrong keys say what the server answered and
// which Secret they came from, never the keys; a Secret missing a key
// names it; a missing bucket says so. Nothing is stored.
func TestBucketBadCredentials(t *testing.T) {
	ns := env.Namespace(t)
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "fleet")
	s.Put(t, "fleet", "a.yaml", []byte("a"))
	wrong := secret(t, ns, "wrong-keys", map[string][]byte{"accesskey": []byte(s.AccessKey), "secretkey": []byte("not-the-secret-key-1234")})
	half := secret(t, ns, "half-keys", map[string][]byte{"accesskey": []byte(s.AccessKey)})
	for _, tc := range []struct {
		name, bucket string
		ref          *meta.LocalObjectReference
		reason       string
		says         []string
	}{
		{"wrong-keys", "fleet", wrong, sourcev1.AuthenticationFailedReason, []string{"SignatureDoesNotMatch", "wrong-keys", "fleet", s.Endpoint}},
		{"half-keys", "fleet", half, sourcev1.AuthenticationFailedReason, []string{"half-keys", "secretkey"}},
		{"missing-secret", "fleet", &meta.LocalObjectReference{Name: "nowhere"}, sourcev1.AuthenticationFailedReason, []string{"nowhere"}},
		{"missing-bucket", "no-such-bucket", keysSecret(t, ns, s), sourcev1.BucketOperationFailedReason, []string{"no-such-bucket"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := create(t, ns, tc.name, sourcev1.BucketSpec{BucketName: tc.bucket, Endpoint: s.Endpoint, Insecure: true, SecretRef: tc.ref})
			got := waitCondition(t, obj, meta.ReadyCondition, metav1.ConditionFalse, tc.reason)
			msg := condition(got, meta.ReadyCondition).Message
			for _, want := range tc.says {
				if !strings.Contains(msg, want) {
					t.Errorf("Ready message %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, "not-the-secret-key-1234") || strings.Contains(msg, s.SecretKey) {
				t.Errorf("Ready message %q shows a secret key", msg)
			}
			if got.Status.Artifact != nil {
				t.Error("an artifact was stored")
			}
		})
	}
}

// TestBucketTooManyObjects: a listing past --artifact-max-files is refused
// before any download, with the numbers and the flag.
func TestBucketTooManyObjects(t *testing.T) {
	ns := env.Namespace(t)
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "big")
	for i := range maxFiles + 1 {
		s.Put(t, "big", fmt.Sprintf("f/%04d.yaml", i), []byte("x"))
	}
	proxy := s.NewCountingProxy(t)
	obj := create(t, ns, "big", sourcev1.BucketSpec{BucketName: "big", Endpoint: proxy.Endpoint(), Insecure: true, SecretRef: keysSecret(t, ns, s)})
	got := waitCondition(t, obj, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.BucketOperationFailedReason)
	msg := condition(got, meta.ReadyCondition).Message
	for _, want := range []string{fmt.Sprint(maxFiles + 1), fmt.Sprint(maxFiles), "--artifact-max-files"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Ready message %q lacks %q", msg, want)
		}
	}
	if n := downloads(proxy); n != 0 {
		t.Errorf("%d objects downloaded before the refusal", n)
	}
}

// TestBucketIncrementalFetchEqualsAFullOne: of 500 objects, one changes;
// the incremental fetch downloads that one alone, and its artifact is
// byte for byte the one a Bucket that fetches everything stores.
func TestBucketIncrementalFetchEqualsAFullOne(t *testing.T) {
	ns := env.Namespace(t)
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "many")
	etags := map[string]string{}
	for i := range 500 {
		key := fmt.Sprintf("apps/%02d/cm-%03d.yaml", i/50, i)
		etags[key] = s.Put(t, "many", key, []byte(fmt.Sprintf("kind: ConfigMap\nindex: %d\n", i)))
	}
	proxy := s.NewCountingProxy(t)
	keys := keysSecret(t, ns, s)
	obj := create(t, ns, "incremental", sourcev1.BucketSpec{BucketName: "many", Endpoint: proxy.Endpoint(), Insecure: true, SecretRef: keys})
	waitRevision(t, obj, fluxRevision(etags))

	proxy.Reset()
	etags["apps/07/cm-371.yaml"] = s.Put(t, "many", "apps/07/cm-371.yaml", []byte("kind: ConfigMap\nindex: changed\n"))
	requestReconcile(t, obj)
	incremental := waitRevision(t, obj, fluxRevision(etags))
	if n := downloads(proxy); n != 1 || proxy.Gets("apps/07/cm-371.yaml") != 1 {
		t.Errorf("one changed object of 500: %d downloads, want 1", n)
	}

	full := waitRevision(t, create(t, ns, "full", sourcev1.BucketSpec{BucketName: "many", Endpoint: s.Endpoint, Insecure: true, SecretRef: keys}), fluxRevision(etags))
	if incremental.Status.Artifact.Digest != full.Status.Artifact.Digest {
		t.Errorf("incremental artifact %s, a full fetch's %s: want the same bytes", incremental.Status.Artifact.Digest, full.Status.Artifact.Digest)
	}
	if f := files(t, incremental.Status.Artifact.URL); len(f) != 500 || f["apps/07/cm-371.yaml"] != "kind: ConfigMap\nindex: changed\n" {
		t.Errorf("incremental artifact: %d files, the changed one %q", len(f), f["apps/07/cm-371.yaml"])
	}
}

// TestBucketHTTPS: a server whose certificate a CA of certSecretRef signed
// is reached over HTTPS; without that CA the fetch fails saying so.
func TestBucketHTTPS(t *testing.T) {
	ns := env.Namespace(t)
	s := s3test.Start(t, s3test.Options{TLS: true})
	s.MakeBucket(t, "tls")
	etags := map[string]string{"a.yaml": s.Put(t, "tls", "a.yaml", []byte("a"))}
	keys := keysSecret(t, ns, s)
	ca := secret(t, ns, "server-ca", map[string][]byte{"ca.crt": s.CA})
	waitRevision(t, create(t, ns, "with-ca", sourcev1.BucketSpec{BucketName: "tls", Endpoint: s.Endpoint, SecretRef: keys, CertSecretRef: ca}), fluxRevision(etags))

	got := waitCondition(t, create(t, ns, "without-ca", sourcev1.BucketSpec{BucketName: "tls", Endpoint: s.Endpoint, SecretRef: keys}),
		meta.ReadyCondition, metav1.ConditionFalse, sourcev1.BucketOperationFailedReason)
	if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, "ca.crt") {
		t.Errorf("Ready message %q does not say to give the CA (ca.crt)", msg)
	}
}

// TestBucketEverythingIgnored: a .sourceignore that excludes every key is
// not an error: the Bucket is Ready with an empty artifact, and its event
// says 0 files were fetched.
func TestBucketEverythingIgnored(t *testing.T) {
	ns := env.Namespace(t)
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "empty")
	s.Put(t, "empty", ".sourceignore", []byte("/*\n"))
	s.Put(t, "empty", "apps/a.yaml", []byte("a"))
	got := waitRevision(t, create(t, ns, "empty", sourcev1.BucketSpec{BucketName: "empty", Endpoint: s.Endpoint, Insecure: true,
		SecretRef: keysSecret(t, ns, s)}), fluxRevision(map[string]string{}))
	if f := files(t, got.Status.Artifact.URL); len(f) != 0 {
		t.Errorf("artifact files %v, want none", f)
	}
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, "", "stored artifact with 0 fetched files from 'empty' bucket")
}

// TestBucketSuspendAndRetention: a suspended Bucket does not fetch a new
// revision; resumed, it does. After three revisions at most two artifacts
// stay (--artifact-retention-records), the first one collected and
// latest.tar.gz pointing at the current one.
func TestBucketSuspendAndRetention(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "kept")
	etags := map[string]string{"a.yaml": s.Put(t, "kept", "a.yaml", []byte("v1"))}
	obj := create(t, ns, "kept", sourcev1.BucketSpec{BucketName: "kept", Endpoint: s.Endpoint, Insecure: true, SecretRef: keysSecret(t, ns, s)})
	first := waitRevision(t, obj, fluxRevision(etags)).Status.Artifact

	suspend := func(on bool) {
		t.Helper()
		got := get(t, obj)
		patch := client.MergeFrom(got.DeepCopy())
		got.Spec.Suspend = on
		if err := kube.Patch(ctx, got, patch); err != nil {
			t.Fatal(err)
		}
	}
	suspend(true)
	etags["a.yaml"] = s.Put(t, "kept", "a.yaml", []byte("v2"))
	requestReconcile(t, obj)
	// The next revision must not arrive while suspended: a Bucket
	// created now on the same content shows what "arrived" would be.
	probe := waitRevision(t, create(t, ns, "probe", sourcev1.BucketSpec{BucketName: "kept", Endpoint: s.Endpoint, Insecure: true,
		SecretRef: keysSecret(t, ns, s)}), fluxRevision(etags))
	if got := get(t, obj).Status.Artifact; got.Revision != first.Revision {
		t.Errorf("suspended Bucket moved to %s (a Bucket made later already has %s)", got.Revision, probe.Status.Artifact.Revision)
	}
	suspend(false)
	waitRevision(t, obj, fluxRevision(etags))

	etags["a.yaml"] = s.Put(t, "kept", "a.yaml", []byte("v3"))
	requestReconcile(t, obj)
	current := waitRevision(t, obj, fluxRevision(etags)).Status.Artifact
	dir := filepath.Join(storageDir, "bucket", ns, "kept")
	currentFile := filepath.Base(current.Path)
	testcluster.Eventually(t, 30*time.Second, "old artifacts collected", func() (bool, error) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return false, err
		}
		var tarballs []string
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".tar.gz") && e.Type().IsRegular() {
				tarballs = append(tarballs, e.Name())
			}
		}
		return len(tarballs) <= 2 && slices.Contains(tarballs, currentFile) && !slices.Contains(tarballs, filepath.Base(first.Path)), nil
	})
	if target, err := os.Readlink(filepath.Join(dir, "latest.tar.gz")); err != nil || target != currentFile {
		t.Errorf("latest.tar.gz -> %q (%v), want %s", target, err, currentFile)
	}
}

// TestBucketFailureKeepsTheArtifact: once a Bucket has an artifact, a
// failure (its keys replaced by wrong ones) is Ready=False with a Warning
// event, and the previous artifact stays recorded and served.
func TestBucketFailureKeepsTheArtifact(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "kept")
	etags := map[string]string{"a.yaml": s.Put(t, "kept", "a.yaml", []byte("a"))}
	keys := secret(t, ns, "changing-keys", map[string][]byte{"accesskey": []byte(s.AccessKey), "secretkey": []byte(s.SecretKey)})
	obj := create(t, ns, "kept", sourcev1.BucketSpec{BucketName: "kept", Endpoint: s.Endpoint, Insecure: true, SecretRef: keys})
	before := waitRevision(t, obj, fluxRevision(etags)).Status.Artifact

	var sec corev1.Secret
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "changing-keys"}, &sec); err != nil {
		t.Fatal(err)
	}
	sec.Data["secretkey"] = []byte("no-longer-the-key-5678")
	if err := kube.Update(ctx, &sec); err != nil {
		t.Fatal(err)
	}
	s.Put(t, "kept", "b.yaml", []byte("b"))
	requestReconcile(t, obj)
	got := waitCondition(t, obj, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.AuthenticationFailedReason)
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, sourcev1.AuthenticationFailedReason, "SignatureDoesNotMatch")
	if a := got.Status.Artifact; a == nil || a.Revision != before.Revision || a.Digest != before.Digest {
		t.Fatalf("artifact after the failure %+v, want the previous one %+v", a, before)
	}
	if f := files(t, got.Status.Artifact.URL); len(f) != 1 || f["a.yaml"] != "a" {
		t.Errorf("served artifact after the failure: %v", f)
	}
}
