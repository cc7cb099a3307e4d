// Package gitrepository reconciles GitRepository objects: it fetches the
// repository at the selected reference, verifies signatures, embeds the
// artifacts of included repositories, and publishes the result as a
// deterministic tarball in the shared artifact storage.
package gitrepository

import (
	"context"
	"fmt"
	"slices"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/sourcekit"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/git"
	"github.com/driftless/driftless/internal/reconcile"
)

// Git is what the controller needs of a Git client.
type Git interface {
	Clone(ctx context.Context, dir string, opts git.CloneOptions) (*git.Commit, error)
	Resolve(ctx context.Context, opts git.CloneOptions) (hash, ref string, err error)
}

// Reconciler holds what every reconciliation of a GitRepository uses.
type Reconciler struct {
	// Client reads and writes Flux objects (through the shared cache).
	Client client.Client
	// Secrets reads Secrets directly from the API server, so Secrets are not cached.
	Secrets client.Reader
	Storage *artifact.Storage
	Git     Git
	// TempDir is where checkouts are made; "" means the system default.
	TempDir string
}

// includeIndex indexes GitRepositories by the names of those they include.
const includeIndex = "spec.include.repository"

// Kind declares the GitRepository reconciliation for the reconcile skeleton.
func (r *Reconciler) Kind() reconcile.Kind[*sourcev1.GitRepository, Checkout] {
	kit := r.kit()
	return reconcile.Kind[*sourcev1.GitRepository, Checkout]{
		Name: sourcev1.GitRepositoryKind,
		New:  func() *sourcev1.GitRepository { return &sourcev1.GitRepository{} },
		Conditions: reconcile.ConditionSet{
			NegativePolarity: []string{
				sourcev1.FetchFailedCondition,
				sourcev1.IncludeUnavailableCondition,
				sourcev1.StorageOperationFailedCondition,
				sourcev1.ArtifactOutdatedCondition,
			},
			Owned: []string{sourcev1.ArtifactInStorageCondition, sourcev1.SourceVerifiedCondition},
		},
		Plan: []reconcile.Step[*sourcev1.GitRepository, Checkout]{
			{Name: "storage", Run: kit.Housekeeping},
			{Name: "fetch", Run: r.reconcileSource},
			{Name: "verify", Run: r.reconcileVerification},
			{Name: "include", Run: r.reconcileInclude},
			{Name: "artifact", Run: kit.Archive},
			{Name: "record", Run: kit.Record},
			{Name: "gc", Run: kit.GC},
		},
		Finalize: kit.Finalize,
		Succeeded: func(obj *sourcev1.GitRepository) (string, string) {
			return meta.SucceededReason, fmt.Sprintf("stored artifact for revision '%s'", obj.Status.Artifact.Revision)
		},
		// A GitRepository reconciles again when one it includes publishes
		// a new artifact.
		Indexes: []reconcile.Index[*sourcev1.GitRepository]{{Field: includeIndex, Keys: included}},
		Watches: []reconcile.Watch{{Object: &sourcev1.GitRepository{}, Map: r.includers,
			Predicates: []predicate.Predicate{reconcile.ArtifactChanged(false, true)}}},
	}
}

// Checkout is what the fetch step hands to the later steps of one pass.
type Checkout struct {
	// Output is the tree for the source kit to archive; its Dir is empty
	// when the clone was skipped (Unchanged).
	sourcekit.Output
	commit   *git.Commit
	included []*meta.Artifact
}

// kit is the storage side of GitRepositories: archive, record, garbage
// collection and finalize.
func (r *Reconciler) kit() *sourcekit.Kit[*sourcev1.GitRepository, Checkout] {
	return &sourcekit.Kit[*sourcev1.GitRepository, Checkout]{
		Kind:     sourcev1.GitRepositoryKind,
		Storage:  r.Storage,
		TempDir:  r.TempDir,
		Output:   func(c *Checkout) *sourcekit.Output { return &c.Output },
		Recorded: recorded,
	}
}

// recorded notes what the new artifact was built from.
func recorded(obj *sourcev1.GitRepository, c *Checkout) {
	obj.Status.IncludedArtifacts = c.included
	obj.Status.ObservedIgnore = obj.Spec.Ignore
	obj.Status.ObservedRecurseSubmodules = obj.Spec.RecurseSubmodules
	obj.Status.ObservedInclude = slices.Clone(obj.Spec.Include)
	obj.Status.ObservedSparseCheckout = slices.Clone(obj.Spec.SparseCheckout)
}

// included names the GitRepositories repo includes.
func included(repo *sourcev1.GitRepository) []string {
	var names []string
	for _, inc := range repo.Spec.Include {
		names = append(names, inc.GitRepositoryRef.Name)
	}
	return names
}

// includers lists the GitRepositories that include repo.
func (r *Reconciler) includers(ctx context.Context, repo client.Object) []ctrl.Request {
	return reconcile.Indexed(ctx, r.Client, &sourcev1.GitRepositoryList{},
		client.InNamespace(repo.GetNamespace()), client.MatchingFields{includeIndex: repo.GetName()})
}
