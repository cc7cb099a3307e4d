package cli

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

// shardKey is Flux's sharding label. The controllers of this package's
// cluster reconcile only objects without it (main_test.go), so an object
// labelled answeredShard is left to answerRequests, and one labelled
// unansweredShard to no one: a controller that does not answer.
const (
	shardKey         = "sharding.fluxcd.io/key"
	answeredShard    = "cli-test"
	unansweredShard  = "nobody"
	answeredLabel    = shardKey + "=" + answeredShard
	unansweredLabel  = shardKey + "=" + unansweredShard
	fakeOriginSource = "https://github.com/stefanprodan/podinfo"
)

// fakeManifestDigest is the digest the fake OCIRepository controller
// "resolves" every tag to.
var fakeManifestDigest = "sha256:" + sha256Hex([]byte("driftless cli test manifest"))

// answerRequests plays the controller of kind k for the objects of ns
// labelled answeredShard until the test ends: on every new generation or
// reconcile request of an object that is not suspended it writes the
// status a successful reconciliation writes (fill sets the kind's own
// fields; this sets Ready, observedGeneration and lastHandledReconcileAt).
// It reacts to watch events, so the CLI's waits see it at once.
func answerRequests(t *testing.T, ns string, k kinds.Kind, fill func(meta.Object)) {
	t.Helper()
	c, err := client.NewWithWatch(env.Config, client.Options{Scheme: kube.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			w, err := c.Watch(ctx, k.NewList(), client.InNamespace(ns), client.MatchingLabels{shardKey: answeredShard})
			if err != nil {
				if ctx.Err() == nil {
					t.Errorf("the fake %s controller cannot watch: %v", k.Kind, err)
				}
				return
			}
			for ev := range w.ResultChan() {
				obj, ok := ev.Object.(meta.Object)
				if !ok || (ev.Type != watch.Added && ev.Type != watch.Modified) {
					continue
				}
				answer(ctx, t, c, k, obj, fill)
			}
			w.Stop()
		}
	}()
}

func answer(ctx context.Context, t *testing.T, c client.Client, k kinds.Kind, obj meta.Object, fill func(meta.Object)) {
	token := obj.GetAnnotations()[meta.ReconcileRequestAnnotation]
	if obj.IsSuspended() || (obj.GetObservedGeneration() == obj.GetGeneration() && obj.GetLastHandledReconcileRequest() == token) {
		return
	}
	fill(obj)
	obj.SetLastHandledReconcileRequest(token)
	obj.SetObservedGeneration(obj.GetGeneration())
	msg := "stored artifact for revision '" + k.RevisionOf(obj) + "'"
	if k.Kind == kustomizev1.KustomizationKind {
		msg = "Applied revision: " + k.RevisionOf(obj)
	}
	obj.SetConditions([]metav1.Condition{{
		Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason, Message: msg,
		ObservedGeneration: obj.GetGeneration(), LastTransitionTime: metav1.Now(),
	}})
	// A conflict means the object changed again: its next event answers it.
	if err := c.Status().Update(ctx, obj); err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		t.Errorf("the fake %s controller cannot write the status of %s/%s: %v", k.Kind, obj.GetNamespace(), obj.GetName(), err)
	}
}

// fakeOCIRevision is the revision the fake controller gives an
// OCIRepository: its tag (latest without one) at fakeManifestDigest, or the
// digest alone for a digest reference, as source-controller does.
func fakeOCIRevision(o *sourcev1.OCIRepository) string {
	ref := o.Spec.Reference
	switch {
	case ref != nil && ref.Digest != "":
		return ref.Digest
	case ref != nil && ref.Tag != "":
		return ref.Tag + "@" + fakeManifestDigest
	}
	return "latest@" + fakeManifestDigest
}

// fillOCIRepository is what an OCIRepository controller records after a
// pull: the artifact, with the annotations `flux push artifact` writes.
func fillOCIRepository(obj meta.Object) {
	o := obj.(*sourcev1.OCIRepository)
	rev := fakeOCIRevision(o)
	hexDigest := sha256Hex([]byte("artifact of " + rev))
	path := "ocirepository/" + o.Namespace + "/" + o.Name + "/" + hexDigest + ".tar.gz"
	size := int64(1234)
	o.Status.Artifact = &meta.Artifact{
		Path: path, URL: "http://source-controller.flux-system.svc.cluster.local./" + path,
		Revision: rev, Digest: "sha256:" + hexDigest, Size: &size, LastUpdateTime: metav1.Now(),
		Metadata: map[string]string{
			"org.opencontainers.image.source":   fakeOriginSource,
			"org.opencontainers.image.revision": "6.6.2@sha1:" + sha256Hex([]byte("commit"))[:40],
		},
	}
	o.Status.URL = "http://source-controller.flux-system.svc.cluster.local./ocirepository/" + o.Namespace + "/" + o.Name + "/latest.tar.gz"
	o.Status.ObservedIgnore = o.Spec.Ignore
	o.Status.ObservedLayerSelector = o.Spec.LayerSelector
}

// fakeBucketRevision is the revision the fake controller gives a Bucket:
// a sha256 as Flux's formula yields, standing for the objects of its
// bucket and prefix.
func fakeBucketRevision(b *sourcev1.Bucket) string {
	return "sha256:" + sha256Hex([]byte("objects of "+b.Spec.BucketName+"/"+b.Spec.Prefix))
}

// fillBucket is what a Bucket controller records after a fetch: the
// artifact named by the revision's digest, and the stable URL.
func fillBucket(obj meta.Object) {
	b := obj.(*sourcev1.Bucket)
	rev := fakeBucketRevision(b)
	hexDigest := strings.TrimPrefix(rev, "sha256:")
	base := "http://source-controller.flux-system.svc.cluster.local./bucket/" + b.Namespace + "/" + b.Name + "/"
	size := int64(4096)
	b.Status.Artifact = &meta.Artifact{
		Path: "bucket/" + b.Namespace + "/" + b.Name + "/" + hexDigest + ".tar.gz", URL: base + hexDigest + ".tar.gz",
		Revision: rev, Digest: "sha256:" + sha256Hex([]byte("tarball of "+rev)), Size: &size, LastUpdateTime: metav1.Now(),
	}
	b.Status.URL = base + "latest.tar.gz"
	b.Status.ObservedIgnore = b.Spec.Ignore
}

// fillKustomization is what the kustomize controller records after
// applying the revision of its (fake) source, of any kind the catalogue
// knows.
func fillKustomization(obj meta.Object) {
	k := obj.(*kustomizev1.Kustomization)
	rev := "latest@" + fakeManifestDigest
	key := client.ObjectKey{Namespace: k.Namespace, Name: k.Spec.SourceRef.Name}
	if k.Spec.SourceRef.Namespace != "" {
		key.Namespace = k.Spec.SourceRef.Namespace
	}
	if sk, ok := kinds.ByKind(k.Spec.SourceRef.Kind); ok {
		src := sk.New()
		if err := kube.Get(context.Background(), key, src); err == nil && sk.RevisionOf(src) != "" {
			rev = sk.RevisionOf(src)
		}
	}
	k.Status.LastAppliedRevision = rev
	k.Status.LastAttemptedRevision = rev
}
