// Package imagerepository reconciles ImageRepository objects: it lists the
// tags of a container image repository at an interval, drops those the
// exclusion list matches, and keeps them in the tag store, one file per
// ImageRepository, where the ImagePolicies read them back by the revision
// in status.lastScanResult. A scan costs the registry one request per page
// of the tag list, and a pass that finds nothing due makes no request at
// all: restarts and unrelated reconciles do not hit the registry.
package imagerepository

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/source"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/tagstore"
	"github.com/driftless/driftless/internal/reconcile"
)

// Reconciler holds what every reconciliation of an ImageRepository uses.
type Reconciler struct {
	// Client reads and writes Flux objects (through the shared cache).
	Client client.Client
	// Auth reads the Secrets and ServiceAccounts the spec names, uncached.
	Auth Auth
	// Store keeps the scanned tags (--image-storage-path).
	Store *tagstore.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	wake *dueScans
}

// Scan is what the steps of one pass hand to each other.
type Scan struct {
	image      Image
	exclusions []*regexp.Regexp
}

// Kind declares the ImageRepository reconciliation for the reconcile
// skeleton. The kind has no step conditions of its own, as in Flux: Ready,
// Reconciling and Stalled say everything.
func (r *Reconciler) Kind() reconcile.Kind[*imagev1.ImageRepository, Scan] {
	r.wake = newDueScans()
	return reconcile.Kind[*imagev1.ImageRepository, Scan]{
		Name: imagev1.ImageRepositoryKind,
		New:  func() *imagev1.ImageRepository { return &imagev1.ImageRepository{} },
		Plan: []reconcile.Step[*imagev1.ImageRepository, Scan]{
			{Name: "image", Run: r.reconcileImage},
			{Name: "scan", Run: r.reconcileScan},
		},
		Finalize:  r.finalize,
		Succeeded: succeeded,
		Sources:   []source.Source{r.wake.source()},
	}
}

// succeeded is Flux's Ready message after a scan: how many tags, and the
// revision of the list.
func succeeded(obj *imagev1.ImageRepository) (string, string) {
	res := obj.Status.LastScanResult
	if res == nil {
		return meta.SucceededReason, "no scan yet"
	}
	return meta.SucceededReason, fmt.Sprintf("successful scan: found %d tags with checksum %s", res.TagCount, res.Revision)
}

// reconcileImage parses spec.image and the exclusion list: either failing
// stalls, since only a spec change can fix it.
func (r *Reconciler) reconcileImage(_ context.Context, obj *imagev1.ImageRepository, _ *reconcile.Pass, st *Scan) error {
	img, err := ParseImage(obj.Spec.Image, obj.Spec.Insecure)
	if err != nil {
		return &reconcile.StallingError{Reason: imagev1.ImageURLInvalidReason, Err: err}
	}
	st.image = img
	if st.exclusions, err = exclusions(ExclusionList(obj)); err != nil {
		return &reconcile.StallingError{Reason: meta.FailedReason, Err: err}
	}
	return nil
}

// Rescan asks for a pass of the repository key now: an ImagePolicy that
// found its stored tags gone calls it, so the repository scans again
// rather than at its next interval. It does nothing before Kind is called.
func (r *Reconciler) Rescan(key types.NamespacedName) {
	if r.wake != nil {
		r.wake.after(key, 0)
	}
}

// finalize deletes the stored tags of the repository.
func (r *Reconciler) finalize(_ context.Context, obj *imagev1.ImageRepository, _ *reconcile.Pass) error {
	r.wake.cancel(client.ObjectKeyFromObject(obj))
	if err := r.Store.Delete(obj.Namespace, obj.Name); err != nil {
		return fmt.Errorf("delete the stored tags: %w", err)
	}
	return nil
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
