package kustomization_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/tartest"
)

// producer is a third party's artifact server, as the controller of an
// ExternalArtifact would run: the suite's kustomize controllers list it in
// --artifact-servers (kustomizeController), so artifacts filed on it may be
// downloaded.
var producer = newArtifactServer()

// artifactServer serves tarballs by path, and counts the requests it gets,
// so a test can tell that a refused server was never contacted.
type artifactServer struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string][]byte
	requests atomic.Int64
}

// newArtifactServer starts an empty artifact server on the loopback.
func newArtifactServer() *artifactServer {
	s := &artifactServer{files: map[string][]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		data, ok := s.files[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	}))
	return s
}

// file files data at path (which starts with "/") and returns its URL.
func (s *artifactServer) file(path string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = data
	return s.URL + path
}

// host is the server's host:port, as a refusal names it.
func (s *artifactServer) host() string {
	return s.Listener.Addr().String()
}

// sha256Digest is data's digest in an artifact's '<algorithm>:<hex>' form.
func sha256Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// generatedManifests is a tarball holding one ConfigMap, "generated" in ns,
// whose data says which generation produced it.
func generatedManifests(t *testing.T, ns, generation string) []byte {
	t.Helper()
	return tartest.TarGz(t, tartest.Files(map[string]string{
		"configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: generated, namespace: " + ns + "}\ndata: {generation: \"" + generation + "\"}\n",
	})...)
}

// externalArtifact creates an ExternalArtifact with no status yet, as its
// producer would before publishing anything.
func externalArtifact(t *testing.T, ns, name string) *sourcev1.ExternalArtifact {
	t.Helper()
	ea := &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if err := kube.Create(context.Background(), ea); err != nil {
		t.Fatal(err)
	}
	return ea
}

// publish writes the ExternalArtifact's status.artifact through the status
// subresource, Ready, as its producer does on each new artifact.
func publish(t *testing.T, ea *sourcev1.ExternalArtifact, rawURL, revision, digest string) {
	t.Helper()
	ctx := context.Background()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := kube.Get(ctx, client.ObjectKeyFromObject(ea), ea); err != nil {
		t.Fatal(err)
	}
	ea.Status.Artifact = &meta.Artifact{Path: strings.TrimPrefix(u.Path, "/"), URL: rawURL, Revision: revision, Digest: digest, LastUpdateTime: metav1.Now()}
	ea.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
		Message: "published " + revision, LastTransitionTime: metav1.Now(), ObservedGeneration: ea.Generation}}
	if err := kube.Status().Update(ctx, ea); err != nil {
		t.Fatal(err)
	}
}

// externalKustomization applies the ExternalArtifact source's manifests.
func externalKustomization(t *testing.T, ns, name, source string) {
	t.Helper()
	applyYAML(t, ns, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: `+name+`}
spec:
  interval: 1h
  retryInterval: 2s
  prune: true
  sourceRef: {kind: ExternalArtifact, name: `+source+`}
`)
}

// generatedConfigMap is the ConfigMap the artifacts hold, or nil when
// nothing was applied.
func generatedConfigMap(t *testing.T, ns string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "generated"}, cm); err != nil {
		return nil
	}
	return cm
}

// TestExternalArtifactFromAThirdParty: a Kustomization whose source is an
// ExternalArtifact published on a server not in --artifact-servers is
// refused, naming the host and the flag, and the server is never
// contacted; once the producer publishes on an allowed server, the
// artifact is applied at its revision, and a new artifact is applied in
// turn, brought by the watch on ExternalArtifacts (the interval is 1h).
func TestExternalArtifactFromAThirdParty(t *testing.T) {
	ns := env.Namespace(t)
	ea := externalArtifact(t, ns, "generated")
	stranger := newArtifactServer()
	t.Cleanup(stranger.Close)
	v1 := generatedManifests(t, ns, "1")
	publish(t, ea, stranger.file("/"+ns+"/v1.tar.gz", v1), "gen-1", sha256Digest(v1))
	externalKustomization(t, ns, "external", "generated")

	refused := waitFailed(t, ns, "external", meta.ArtifactFailedReason)
	msg := reconcile.Get(refused, meta.ReadyCondition).Message
	if !strings.Contains(msg, stranger.host()) || !strings.Contains(msg, "--artifact-servers") {
		t.Errorf("an artifact on %s refused with %q, which does not name the host and --artifact-servers", stranger.host(), msg)
	}
	if n := stranger.requests.Load(); n != 0 {
		t.Errorf("the refused server got %d requests", n)
	}
	if cm := generatedConfigMap(t, ns); cm != nil {
		t.Errorf("applied from a refused server: %+v", cm.Data)
	}

	publish(t, ea, producer.file("/"+ns+"/v1.tar.gz", v1), "gen-1", sha256Digest(v1))
	waitKS(t, ns, "external", "gen-1 applied", func(k *kustomizev1.Kustomization) bool {
		return reconcile.IsTrue(k, meta.ReadyCondition) && k.Status.LastAppliedRevision == "gen-1"
	})
	if cm := generatedConfigMap(t, ns); cm == nil || cm.Data["generation"] != "1" {
		t.Fatalf("gen-1 applied, ConfigMap %+v", cm)
	}

	v2 := generatedManifests(t, ns, "2")
	publish(t, ea, producer.file("/"+ns+"/v2.tar.gz", v2), "gen-2", sha256Digest(v2))
	waitKS(t, ns, "external", "gen-2 applied", func(k *kustomizev1.Kustomization) bool {
		return reconcile.IsTrue(k, meta.ReadyCondition) && k.Status.LastAppliedRevision == "gen-2"
	})
	if cm := generatedConfigMap(t, ns); cm == nil || cm.Data["generation"] != "2" {
		t.Errorf("gen-2 applied, ConfigMap %+v", cm)
	}
}

// TestExternalArtifactDigestMismatch: an artifact whose published digest
// is not the tarball's is refused, the message naming the digest, and
// nothing of it is applied.
func TestExternalArtifactDigestMismatch(t *testing.T) {
	ns := env.Namespace(t)
	ea := externalArtifact(t, ns, "generated")
	data := generatedManifests(t, ns, "1")
	wrong := sha256Digest([]byte("not the tarball"))
	publish(t, ea, producer.file("/"+ns+"/v1.tar.gz", data), "gen-1", wrong)
	externalKustomization(t, ns, "mismatch", "generated")

	got := waitFailed(t, ns, "mismatch", meta.ArtifactFailedReason)
	if msg := reconcile.Get(got, meta.ReadyCondition).Message; !strings.Contains(msg, wrong) || !strings.Contains(msg, "digest mismatch") {
		t.Errorf("a digest mismatch refused with %q, which does not name the digest %s", msg, wrong)
	}
	if got.Status.LastAppliedRevision != "" {
		t.Errorf("lastAppliedRevision %q after a digest mismatch", got.Status.LastAppliedRevision)
	}
	if cm := generatedConfigMap(t, ns); cm != nil {
		t.Errorf("applied an artifact whose digest does not match: %+v", cm.Data)
	}
}
