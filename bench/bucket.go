package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minio/minio-go/v7"

	"github.com/driftless/driftless/internal/testkit/s3test"
)

// w9DefaultObjects is W9's size unless -n is given: the 20 000
// small objects.
const w9DefaultObjects = 20000

// w9Bucket is the S3 bucket W9 fills; w9Source and w9Over are its two
// Bucket objects, the measured one and the one past the file cap.
const (
	w9Bucket  = "fleet"
	w9Source  = "fleet"
	w9Over    = "over-cap"
	w9Secret  = "bucket-keys"
	w9Putters = 16
)

func bucketsGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "buckets"}
}

// w9Key is the key of W9's object i: 100 objects a directory, as an app
// tree would be.
func w9Key(i int) string { return fmt.Sprintf("apps/%04d/cm-%05d.yaml", i/100, i) }

// w9Body is W9's object i: a few bytes of YAML, so that the figures are
// the cost of the object count, not of their size.
func w9Body(i int) []byte {
	return fmt.Appendf(nil, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%05d\n", i)
}

// runW9 is the Bucket source at scale: n small objects in one bucket of a
// local versitygw, and one Bucket of it. Phases: "fetch", from creating the
// Bucket to Ready with an artifact (every listing page followed, every
// object downloaded and archived), checked to hold n files; "poll", a
// requested reconcile with nothing changed, until lastHandledReconcileAt
// is the request's token, checked to keep the artifact; "refusal", one
// more object and a second Bucket of the same bucket, which
// --artifact-max-files=n must refuse with a message naming the numbers and
// the flag. The controller's peak RSS is reset before each phase, so each
// row's peak is the phase's own.
func (c config) runW9(ctx context.Context, n int) (rows []row, err error) {
	e, err := c.setup(ctx, fmt.Sprintf("W9-n%d", n), nil)
	if e != nil {
		defer func() { e.teardown(err != nil) }()
	}
	if err != nil {
		return nil, err
	}
	srv, err := s3test.New(s3test.Options{})
	if err != nil {
		return nil, fmt.Errorf("versitygw: %w", err)
	}
	defer func() {
		if cerr := srv.Close(); cerr != nil {
			c.logf("%v", cerr)
		}
	}()
	if err := srv.Client.MakeBucket(ctx, w9Bucket, minio.MakeBucketOptions{Region: srv.Region}); err != nil {
		return nil, fmt.Errorf("make bucket %s: %w", w9Bucket, err)
	}
	started := time.Now()
	if err := srv.PutMany(ctx, w9Bucket, n, w9Putters, func(i int) (string, []byte) { return w9Key(i), w9Body(i) }); err != nil {
		return nil, err
	}
	c.logf("W9 N=%d: put %d objects in %s", n, n, time.Since(started).Round(time.Millisecond))

	if err := e.createNamespace(ctx, fleetNamespace); err != nil {
		return nil, err
	}
	if err := e.createKeysSecret(ctx, srv); err != nil {
		return nil, err
	}
	e.cfg.ctrlArgs = append(slices.Clone(c.ctrlArgs), "--artifact-max-files="+strconv.Itoa(n))
	if err := e.startControllers(ctx); err != nil {
		return nil, err
	}
	buckets, err := newTracker(ctx, e.cluster.dynamic, bucketsGVR(), fleetNamespace)
	if err != nil {
		return nil, err
	}
	defer buckets.close()
	key := fleetNamespace + "/" + w9Source
	base := row{Workload: "W9", N: n, Objects: n}

	c.logf("W9 N=%d: fetch", n)
	fetchFrom := e.resetPeakRSS()
	fetch := base
	fetch.Phase = "fetch"
	fetch, err = measure(ctx, e.subject(), fetch, func() error {
		if err := e.createBucket(ctx, w9Source, srv.Endpoint); err != nil {
			return err
		}
		return buckets.waitAll(ctx, []string{key}, readyWithArtifact, c.timeout)
	})
	if err != nil {
		return nil, err
	}
	fetched := buckets.get(key)
	revision, _, _ := unstructured.NestedString(fetched.Object, "status", "artifact", "revision")
	digest, _, _ := unstructured.NestedString(fetched.Object, "status", "artifact", "digest")
	if !strings.HasPrefix(revision, "sha256:") {
		return nil, fmt.Errorf("W9 N=%d: the artifact's revision is %q, not a sha256 of the listing", n, revision)
	}
	files, err := e.fetchedFiles(ctx, w9Source)
	if err != nil {
		return nil, err
	}
	url, _, _ := unstructured.NestedString(fetched.Object, "status", "artifact", "url")
	archived, err := countArchivedFiles(ctx, url)
	if err != nil {
		return nil, err
	}
	if files != n || archived != n {
		return nil, fmt.Errorf("W9 N=%d: the event says %d fetched files and the artifact holds %d, want %d", n, files, archived, n)
	}
	fetch.Note = fmt.Sprintf("revision %s, %d objects fetched and %d files in the artifact; RSS %.0f MiB before", revision, files, archived, fetchFrom)
	rows = append(rows, fetch)

	c.logf("W9 N=%d: poll", n)
	pollFrom := e.resetPeakRSS()
	poll := base
	poll.Phase = "poll"
	token := time.Now().Format(time.RFC3339Nano)
	poll, err = measure(ctx, e.subject(), poll, func() error {
		if err := requestBucketReconcile(ctx, e, w9Source, token); err != nil {
			return err
		}
		return buckets.waitAll(ctx, []string{key}, handled(token), c.timeout)
	})
	if err != nil {
		return rows, err
	}
	polled := buckets.get(key)
	rev, _, _ := unstructured.NestedString(polled.Object, "status", "artifact", "revision")
	dig, _, _ := unstructured.NestedString(polled.Object, "status", "artifact", "digest")
	if rev != revision || dig != digest {
		return rows, fmt.Errorf("W9 N=%d: a poll with nothing changed moved the artifact from %s (%s) to %s (%s)", n, revision, digest, rev, dig)
	}
	poll.Note = fmt.Sprintf("no change: the same artifact %s; RSS %.0f MiB before", digest, pollFrom)
	rows = append(rows, poll)

	c.logf("W9 N=%d: refusal", n)
	if err := srv.PutMany(ctx, w9Bucket, 1, 1, func(int) (string, []byte) { return "apps/extra.yaml", w9Body(n) }); err != nil {
		return rows, err
	}
	refusalFrom := e.resetPeakRSS()
	over := fleetNamespace + "/" + w9Over
	refusal := base
	refusal.Phase, refusal.Objects = "refusal", n+1
	refusal, err = measure(ctx, e.subject(), refusal, func() error {
		if err := e.createBucket(ctx, w9Over, srv.Endpoint); err != nil {
			return err
		}
		return buckets.waitAll(ctx, []string{over}, notReady, c.timeout)
	})
	if err != nil {
		return rows, err
	}
	_, _, message := condition(buckets.get(over), "Ready")
	if err := checkRefusal(message, n+1, n); err != nil {
		return rows, fmt.Errorf("W9 N=%d: %w", n, err)
	}
	refusal.Note = fmt.Sprintf("RSS %.0f MiB before; Ready=False: %s", refusalFrom, message)
	return append(rows, refusal), nil
}

// createKeysSecret stores the server's root keys as the Buckets' secretRef.
func (e *env) createKeysSecret(ctx context.Context, srv *s3test.Server) error {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: w9Secret, Namespace: fleetNamespace},
		StringData: map[string]string{"accesskey": srv.AccessKey, "secretkey": srv.SecretKey},
	}
	if _, err := e.cluster.kube.CoreV1().Secrets(fleetNamespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create Secret %s: %w", w9Secret, err)
	}
	return nil
}

// createBucket creates Bucket name of W9's bucket at endpoint, over plain
// HTTP with the keys' Secret, polled hourly (polls in the run are requested).
func (e *env) createBucket(ctx context.Context, name, endpoint string) error {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind":       "Bucket",
		"metadata":   map[string]any{"name": name, "namespace": fleetNamespace},
		"spec": map[string]any{
			"interval":   "1h",
			"provider":   "generic",
			"bucketName": w9Bucket,
			"endpoint":   endpoint,
			"insecure":   true,
			"secretRef":  map[string]any{"name": w9Secret},
		},
	}}
	if _, err := e.cluster.dynamic.Resource(bucketsGVR()).Namespace(fleetNamespace).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create Bucket %s: %w", name, err)
	}
	return nil
}

// requestBucketReconcile sets reconcile.fluxcd.io/requestedAt to token on
// Bucket name.
func requestBucketReconcile(ctx context.Context, e *env, name, token string) error {
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":%q}}}`, token)
	if _, err := e.cluster.dynamic.Resource(bucketsGVR()).Namespace(fleetNamespace).Patch(ctx, name, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("request a reconcile of Bucket %s: %w", name, err)
	}
	return nil
}

// handled says the reconcile requested with token is done, Ready.
func handled(token string) func(*unstructured.Unstructured) bool {
	return func(o *unstructured.Unstructured) bool {
		got, _, _ := unstructured.NestedString(o.Object, "status", "lastHandledReconcileAt")
		return got == token && ready(o)
	}
}

// notReady says the object's reconcile failed: Ready=False. A failure the
// controller retries leaves observedGeneration behind, as Flux's do, so
// the generation is not compared.
func notReady(o *unstructured.Unstructured) bool {
	s, _, _ := condition(o, "Ready")
	return s == "False"
}

// fetchedFilesPattern is the Bucket controller's event for a new artifact.
var fetchedFilesPattern = regexp.MustCompile(`stored artifact with (\d+) fetched files`)

// parseFetchedFiles reads the file count of a new-artifact event message.
func parseFetchedFiles(message string) (int, bool) {
	m := fetchedFilesPattern.FindStringSubmatch(message)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// fetchedFiles is the file count the controller's event reports for
// Bucket name; the event is recorded just after Ready, so it is waited for.
func (e *env) fetchedFiles(ctx context.Context, name string) (int, error) {
	var files int
	var last error
	err := pollUntil(ctx, 30*time.Second, "the Bucket's new-artifact event", func() bool {
		list, err := e.cluster.kube.CoreV1().Events(fleetNamespace).List(ctx, metav1.ListOptions{
			FieldSelector: "involvedObject.kind=Bucket,involvedObject.name=" + name,
		})
		if err != nil {
			last = err
			return false
		}
		for _, ev := range list.Items {
			if n, ok := parseFetchedFiles(ev.Message); ok {
				files = n
				return true
			}
		}
		return false
	})
	if err != nil && last != nil {
		err = fmt.Errorf("%w (last list: %v)", err, last)
	}
	return files, err
}

// countArchivedFiles downloads the artifact at url and counts its regular
// files.
func countArchivedFiles(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("artifact URL %q: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("download the artifact: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("download the artifact %s: %s", url, resp.Status)
	}
	return countTarFiles(resp.Body)
}

// countTarFiles counts the regular files of a gzipped tarball.
func countTarFiles(r io.Reader) (int, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return 0, fmt.Errorf("read the artifact: %w", err)
	}
	tr := tar.NewReader(gz)
	files := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return files, fmt.Errorf("read the artifact: %w", err)
		}
		if h.Typeflag == tar.TypeReg {
			files++
		}
	}
}

// checkRefusal says whether a Ready message refusing a bucket past the file
// cap tells a person what happened and what to do: both numbers and the
// flag to raise.
func checkRefusal(message string, files, maxFiles int) error {
	for _, n := range []int{files, maxFiles} {
		if !regexp.MustCompile(`\b` + strconv.Itoa(n) + `\b`).MatchString(message) {
			return fmt.Errorf("the refusal %q does not name %d", message, n)
		}
	}
	if !strings.Contains(message, "--artifact-max-files") {
		return fmt.Errorf("the refusal %q does not name --artifact-max-files", message)
	}
	return nil
}

// resetPeakRSS resets the controller's peak RSS (VmHWM) to its RSS now,
// so that the next phase's peak is its own and not the run's, and returns
// that RSS, the phase's starting point. When the kernel refuses, the peak
// stays the process's since its start, and the log says so.
func (e *env) resetPeakRSS() float64 {
	if e.ctrl == nil {
		return 0
	}
	pid := e.ctrl.proc.PID()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		e.cfg.logf("the next peak RSS is the controller's since its start: reset it: %v", err)
	}
	rss, err := procRSSMiB(pid)
	if err != nil {
		e.cfg.logf("%v", err)
	}
	return rss
}
