// Package imageupdateautomation reconciles ImageUpdateAutomation objects:
// it checks out a branch of the GitRepository the automation names, writes
// the latest images of the selected ImagePolicies into the files marked
// with `$imagepolicy` setters, commits the change as the configured author
// and pushes it, re-applying the setters on the new head when another
// push wins the race.
package imageupdateautomation

import (
	"context"
	"fmt"
	"sync"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/commitmessage"
	"github.com/driftless/driftless/internal/engine/git"
	"github.com/driftless/driftless/internal/reconcile"
)

// Reconciler holds what every reconciliation of an ImageUpdateAutomation uses.
type Reconciler struct {
	// Client reads and writes Flux objects (through the shared cache).
	Client client.Client
	// Secrets reads Secrets directly from the API server, so Secrets are not cached.
	Secrets client.Reader
	// Git checks out, commits and pushes; nil means a zero git.Client.
	Git *git.Client
	// NoCrossNamespaceRefs refuses a sourceRef in another namespace.
	NoCrossNamespaceRefs bool
	// TempDir is where checkouts are made; "" means the system default.
	TempDir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// outcomes carries the Ready message of a successful pass from the
	// update step to Succeeded, keyed by namespace/name: the message names
	// the pushed commit and the markers left alone, which the status does
	// not hold.
	outcomes sync.Map
	// beforePush, when set, runs before each push attempt (tests make a
	// concurrent commit land there).
	beforePush func(obj *imagev1.ImageUpdateAutomation, attempt int)
}

// sourceIndex indexes automations by the "<namespace>/<name>" of their GitRepository.
const sourceIndex = "spec.sourceRef"

// Kind declares the ImageUpdateAutomation reconciliation for the reconcile skeleton.
func (r *Reconciler) Kind() reconcile.Kind[*imagev1.ImageUpdateAutomation, Run] {
	return reconcile.Kind[*imagev1.ImageUpdateAutomation, Run]{
		Name: imagev1.ImageUpdateAutomationKind,
		New:  func() *imagev1.ImageUpdateAutomation { return &imagev1.ImageUpdateAutomation{} },
		Plan: []reconcile.Step[*imagev1.ImageUpdateAutomation, Run]{
			{Name: "source", Run: r.reconcileSource},
			{Name: "policies", Run: r.reconcilePolicies},
			{Name: "template", Run: r.reconcileTemplate},
			{Name: "update", Run: r.reconcileUpdate},
		},
		Succeeded: r.succeeded,
		Indexes: []reconcile.Index[*imagev1.ImageUpdateAutomation]{{Field: sourceIndex, Keys: func(o *imagev1.ImageUpdateAutomation) []string {
			return []string{sourceKey(o)}
		}}},
		Watches: []reconcile.Watch{
			// Picks arrive together when a registry webhook asks many
			// ImageRepositories to scan: one commit for all of them.
			{Object: &imagev1.ImagePolicy{}, Map: r.selecting, Predicates: []predicate.Predicate{latestRefChanged()}, Settle: &picksSettle},
			{Object: &sourcev1.GitRepository{}, Map: r.usingSource, Predicates: []predicate.Predicate{predicate.GenerationChangedPredicate{}}},
		},
	}
}

// picksSettle is how long the automation waits for more picks after one
// changes: half a second of quiet, five seconds at most.
var picksSettle = reconcile.Settle{Quiet: 500 * time.Millisecond, Max: 5 * time.Second}

// Run is what the steps of one pass hand to each other.
type Run struct {
	repo   *sourcev1.GitRepository
	branch git.BranchOptions
	// ref is what to check out; checkout is its branch, "" when ref is
	// not a plain branch (a tag, semver range, name or commit).
	ref      git.Reference
	checkout string
	push     string
	policies selected
	message  *commitmessage.Template
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) git() *git.Client {
	if r.Git != nil {
		return r.Git
	}
	return &git.Client{}
}

// succeeded is Ready's message after a pass: what the update step said.
func (r *Reconciler) succeeded(obj *imagev1.ImageUpdateAutomation) (string, string) {
	if msg, ok := r.outcomes.LoadAndDelete(key(obj)); ok {
		return meta.SucceededReason, msg.(string)
	}
	return meta.SucceededReason, noUpdates
}

// noUpdates is the Ready message of a run that committed nothing.
const noUpdates = "no updates made"

// sourceKey is the index key of the GitRepository obj names.
func sourceKey(obj *imagev1.ImageUpdateAutomation) string {
	ns := obj.Spec.SourceRef.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	return ns + "/" + obj.Spec.SourceRef.Name
}

// usingSource lists the automations that name the GitRepository.
func (r *Reconciler) usingSource(ctx context.Context, repo client.Object) []ctrl.Request {
	return reconcile.Indexed(ctx, r.Client, &imagev1.ImageUpdateAutomationList{},
		client.MatchingFields{sourceIndex: repo.GetNamespace() + "/" + repo.GetName()})
}

// describe names an object in messages.
func describe(kind, namespace, name string) string {
	return fmt.Sprintf("%s '%s/%s'", kind, namespace, name)
}
