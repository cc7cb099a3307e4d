package artifactgenerator

import (
	"context"
	"fmt"
	"maps"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	swv1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/controller/sourcekit"
	"github.com/driftless/driftless/internal/engine/generator"
	"github.com/driftless/driftless/internal/reconcile"
)

// publish stores every built output and writes its ExternalArtifact. It
// first refuses a name that an ExternalArtifact this generator does not
// own already holds, before anything is written.
func (r *Reconciler) publish(ctx context.Context, obj *swv1.ArtifactGenerator, p *reconcile.Pass, st *State) error {
	if st.upToDate {
		return nil
	}
	// One uncached list, not a read per output: a pathPattern may make
	// hundreds, and every write below starts from what the server has.
	list := &sourcev1.ExternalArtifactList{}
	if err := r.APIReader.List(ctx, list, client.InNamespace(obj.Namespace)); err != nil {
		return reconcile.Failed(ReconciliationFailedReason, "list the ExternalArtifacts of namespace %s: %w", obj.Namespace, err)
	}
	byName := map[string]*sourcev1.ExternalArtifact{}
	for i := range list.Items {
		byName[list.Items[i].Name] = &list.Items[i]
	}
	existing := map[string]*sourcev1.ExternalArtifact{}
	for _, res := range st.results {
		ea := byName[res.Name]
		if ea != nil && ea.Labels[swv1.GeneratorLabel] != string(obj.UID) {
			return reconcile.Failed(ReconciliationFailedReason,
				"artifact %s: ExternalArtifact %s/%s already exists and is not managed by this generator (%s); rename the output or delete that ExternalArtifact",
				res.Name, obj.Namespace, res.Name, owner(ea))
		}
		existing[res.Name] = ea
	}
	for _, res := range st.results {
		a, err := r.store(ctx, obj, res, existing[res.Name])
		if err != nil {
			return err
		}
		ea, err := r.write(ctx, obj, p, res, a, existing[res.Name])
		if err != nil {
			return err
		}
		st.written = append(st.written, ea)
	}
	return nil
}

// owner says who holds an ExternalArtifact, for the refusal's message.
func owner(ea *sourcev1.ExternalArtifact) string {
	if ref := ea.Spec.SourceRef; ref != nil && ea.Labels[swv1.GeneratorLabel] != "" {
		ns := ref.Namespace
		if ns == "" {
			ns = ea.Namespace
		}
		return fmt.Sprintf("it belongs to %s %s/%s", ref.Kind, ns, ref.Name)
	}
	return "it was made by hand or by another controller"
}

// store archives one output as externalartifact/<ns>/<name>/<hash>.tar.gz
// and drops the output's older files.
func (r *Reconciler) store(ctx context.Context, obj *swv1.ArtifactGenerator, res generator.Result, old *sourcev1.ExternalArtifact) (*meta.Artifact, error) {
	unlock, err := r.Storage.Lock(sourcev1.ExternalArtifactKind, obj.Namespace, res.Name)
	if err != nil {
		return nil, sourcekit.StorageFailed(sourcev1.AcquireLockFailedReason, fmt.Errorf("artifact %s: failed to acquire lock: %w", res.Name, err))
	}
	defer unlock()
	file := strings.TrimPrefix(res.Digest, "sha256:") + ".tar.gz"
	rel := r.Storage.ArtifactPath(sourcev1.ExternalArtifactKind, obj.Namespace, res.Name, file)
	a, err := r.Storage.Archive(res.Dir, rel, nil)
	if err != nil {
		return nil, reconcile.Failed(BuildFailedReason, "artifact %s: failed to archive: %w", res.Name, err)
	}
	a.Revision = res.Revision
	if len(res.Metadata) > 0 {
		a.Metadata = maps.Clone(res.Metadata)
	}
	if old != nil && old.Status.Artifact != nil && old.Status.Artifact.Digest == a.Digest && old.Status.Artifact.Revision == a.Revision {
		a.LastUpdateTime = old.Status.Artifact.LastUpdateTime // same content: nothing new for consumers
	}
	if _, err := r.Storage.GarbageCollect(sourcev1.ExternalArtifactKind, obj.Namespace, res.Name, a.Path); err != nil {
		// Older files left over cost disk, not correctness: the next pass tries again.
		log.FromContext(ctx).Error(err, "garbage collection of older artifacts failed", "artifact", res.Name)
	}
	return a, nil
}

// write creates or updates the ExternalArtifact of one output: labels,
// annotations and spec.sourceRef as the generator says, status.artifact
// and Ready. An unchanged object is not written; an event says what was
// created or updated.
func (r *Reconciler) write(ctx context.Context, obj *swv1.ArtifactGenerator, p *reconcile.Pass, res generator.Result, a *meta.Artifact, ea *sourcev1.ExternalArtifact) (*sourcev1.ExternalArtifact, error) {
	created := ea == nil
	if created {
		ea = &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Name: res.Name, Namespace: obj.Namespace}}
	}
	before := ea.DeepCopy()
	ea.Labels, ea.Annotations = desiredMetadata(obj, res, ea)
	ea.Spec.SourceRef = &meta.NamespacedObjectKindReference{
		APIVersion: swv1.GroupVersion.String(), Kind: swv1.ArtifactGeneratorKind, Name: obj.Name, Namespace: obj.Namespace,
	}
	fail := func(err error) error {
		return reconcile.Failed(ReconciliationFailedReason, "artifact %s: write ExternalArtifact %s/%s: %w", res.Name, obj.Namespace, res.Name, err)
	}
	switch {
	case created:
		if err := r.Client.Create(ctx, ea); err != nil {
			return nil, fail(err)
		}
	case !equality.Semantic.DeepEqual(before.ObjectMeta, ea.ObjectMeta) || !equality.Semantic.DeepEqual(before.Spec, ea.Spec):
		if err := r.Client.Update(ctx, ea); err != nil {
			return nil, fail(err)
		}
	}
	statusBefore := ea.Status.DeepCopy()
	ea.Status.Artifact = a
	apimeta.SetStatusCondition(&ea.Status.Conditions, metav1.Condition{
		Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
		Message: fmt.Sprintf("stored artifact for revision '%s'", a.Revision), ObservedGeneration: ea.Generation,
	})
	if !equality.Semantic.DeepEqual(*statusBefore, ea.Status) {
		if err := r.Client.Status().Update(ctx, ea); err != nil {
			return nil, fail(err)
		}
	}
	switch {
	case created:
		p.Event(corev1.EventTypeNormal, "ExternalArtifactCreated", fmt.Sprintf("ExternalArtifact %s/%s created with revision %s", ea.Namespace, ea.Name, a.Revision))
	case statusBefore.Artifact == nil || statusBefore.Artifact.Digest != a.Digest || statusBefore.Artifact.Revision != a.Revision:
		p.Event(corev1.EventTypeNormal, "ExternalArtifactUpdated", fmt.Sprintf("ExternalArtifact %s/%s updated to revision %s", ea.Namespace, ea.Name, a.Revision))
	case !equality.Semantic.DeepEqual(before.ObjectMeta, ea.ObjectMeta) || !equality.Semantic.DeepEqual(before.Spec, ea.Spec):
		// An edit put back, or commonMetadata changed: either way the
		// object now carries what the generator says.
		p.Event(corev1.EventTypeNormal, "ExternalArtifactUpdated", fmt.Sprintf("ExternalArtifact %s/%s labels, annotations and sourceRef set as generated", ea.Namespace, ea.Name))
	}
	return ea, nil
}

// desiredMetadata is the labels and annotations of a generated
// ExternalArtifact: spec.commonMetadata, the pathPattern's captures, and
// the reserved managed-by and generator labels, which nothing overrides.
// Keys others added (kubectl's, say) are kept.
func desiredMetadata(obj *swv1.ArtifactGenerator, res generator.Result, ea *sourcev1.ExternalArtifact) (labels, annotations map[string]string) {
	labels, annotations = maps.Clone(ea.Labels), maps.Clone(ea.Annotations)
	if labels == nil {
		labels = map[string]string{}
	}
	if cm := obj.Spec.CommonMetadata; cm != nil {
		maps.Copy(labels, cm.Labels)
		if len(cm.Annotations) > 0 {
			if annotations == nil {
				annotations = map[string]string{}
			}
			maps.Copy(annotations, cm.Annotations)
		}
	}
	maps.Copy(labels, res.Labels)
	labels[ManagedByLabel] = ManagedByValue
	labels[swv1.GeneratorLabel] = string(obj.UID)
	return labels, annotations
}

// getArtifact reads an ExternalArtifact from the cache; nil when there is none.
func (r *Reconciler) getArtifact(ctx context.Context, namespace, name string) (*sourcev1.ExternalArtifact, error) {
	ea := &sourcev1.ExternalArtifact{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, ea); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return ea, nil
}

// stored tells whether an ExternalArtifact's file is in storage.
func (r *Reconciler) stored(ea *sourcev1.ExternalArtifact) bool {
	return ea.Status.Artifact != nil && r.Storage.Exists(ea.Status.Artifact)
}

// inventoryEntry records a written ExternalArtifact in status.inventory.
func inventoryEntry(ea *sourcev1.ExternalArtifact) swv1.InventoryEntry {
	return swv1.InventoryEntry{Name: ea.Name, Namespace: ea.Namespace, Digest: ea.Status.Artifact.Digest, Filename: path.Base(ea.Status.Artifact.Path)}
}
