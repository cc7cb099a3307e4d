package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/helmdrift"
	"github.com/driftless/driftless/internal/reconcile"
)

// checkDrift compares a release in sync with the cluster, as the release's
// identity, when spec.driftDetection asks: warn reports what drifted
// (Drifted=True, an event naming objects and paths, never values),
// enabled also re-applies the drifted objects and re-creates the deleted
// ones from the release's manifest.
func (r *Reconciler) checkDrift(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State, rls *helmrelease.Release) error {
	mode := obj.GetDriftDetectionMode()
	r.watchReleasedObjects(obj)
	if mode == helmv2.DriftDetectionDisabled {
		reconcile.Delete(obj, helmv2.DriftedCondition)
		return nil
	}
	det, err := r.detector(st)
	if err != nil {
		return reconcile.Failed(meta.ReconciliationFailedReason, "drift detection of %s: %w", releaseRef(obj), err)
	}
	objs, err := manifestObjects(rls)
	if err != nil {
		return reconcile.Failed(meta.ReconciliationFailedReason, "drift detection of %s: the stored manifest: %w", releaseRef(obj), err)
	}
	var ignore []helmv2.IgnoreRule
	if dd := obj.Spec.DriftDetection; dd != nil {
		ignore = dd.Ignore
	}
	report, err := det.Detect(ctx, objs, helmdrift.Options{
		Release:   fmt.Sprintf("%s.v%d", releaseRef(obj), rls.Version),
		Namespace: rls.Namespace,
		Ignore:    ignore,
	})
	if err != nil {
		return reconcile.Failed(meta.ReconciliationFailedReason, "drift detection of %s: %w", releaseRef(obj), err)
	}
	if !report.Drifted() {
		reconcile.MarkFalse(obj, helmv2.DriftedCondition, helmv2.NoDriftDetectedReason, helmdrift.NoDriftMessage)
		return nil
	}
	p.Event(corev1.EventTypeWarning, helmv2.DriftDetectedReason, report.String())
	if mode == helmv2.DriftDetectionWarn {
		reconcile.MarkTrue(obj, helmv2.DriftedCondition, helmv2.DriftDetectedReason, report.Summary())
		return nil
	}
	changes, err := det.Correct(ctx, report)
	if err != nil {
		reconcile.MarkTrue(obj, helmv2.DriftedCondition, helmv2.DriftDetectedReason, report.Summary())
		return reconcile.Failed(helmv2.DriftDetectedReason, "failed to correct the drift of %s: %w", releaseRef(obj), err)
	}
	p.Event(corev1.EventTypeNormal, "DriftCorrected", "Cluster state of release "+releaseRef(obj)+" corrected:\n"+changes.String())
	reconcile.MarkFalse(obj, helmv2.DriftedCondition, helmv2.NoDriftDetectedReason, "drift corrected: "+report.Summary())
	return nil
}

// manifestObjects parses a release's manifest (hooks are not in it).
func manifestObjects(rls *helmrelease.Release) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	dec := yaml.NewYAMLOrJSONDecoder(strings.NewReader(rls.Manifest), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(u.Object) > 0 && u.GetKind() != "" {
			withHelmOwnership(u, rls)
			out = append(out, u)
		}
	}
}

// withHelmOwnership adds what Helm sets on every object it applies and
// does not keep in the stored manifest: the managed-by label and the
// release annotations. Without them each object would read as drifted.
func withHelmOwnership(u *unstructured.Unstructured, rls *helmrelease.Release) {
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels["app.kubernetes.io/managed-by"] = "Helm"
	u.SetLabels(labels)
	annotations := u.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations["meta.helm.sh/release-name"] = rls.Name
	annotations["meta.helm.sh/release-namespace"] = rls.Namespace
	u.SetAnnotations(annotations)
}
