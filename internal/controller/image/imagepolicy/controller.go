// Package imagepolicy reconciles ImagePolicy objects: it reads the tags its
// ImageRepository stored at that repository's last scan revision, picks the
// latest one with the policy engine (filterTags, then semver, alphabetical
// or numerical), and reports it in status.latestRef, with the digest when
// spec.digestReflectionPolicy asks for one. It is re-evaluated when its
// ImageRepository changes (a watch, not a poll), and only then, unless it
// refreshes a digest every spec.interval.
package imagepolicy

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/controller/image/imagerepository"
	"github.com/driftless/driftless/internal/engine/tagstore"
	"github.com/driftless/driftless/internal/reconcile"
)

// RepositoryIndex is the field index of ImagePolicies by the
// ImageRepository they refer to, "<namespace>/<name>".
const RepositoryIndex = ".spec.imageRepositoryRef"

// Reconciler holds what every reconciliation of an ImagePolicy uses.
type Reconciler struct {
	// Client reads and writes Flux objects (through the shared cache).
	Client client.Client
	// APIReader reads Namespaces, uncached, for accessFrom.
	APIReader client.Reader
	// Auth reads the repository's Secrets for digest requests.
	Auth imagerepository.Auth
	// Store holds the tags the ImageRepositories scanned.
	Store *tagstore.Store
	// NoCrossNamespaceRefs refuses repositories in other namespaces
	// (--no-cross-namespace-refs).
	NoCrossNamespaceRefs bool
	// Rescan, when set, asks the repository to scan again now: the store
	// lost the tags at its revision (a deleted or corrupt file).
	Rescan func(types.NamespacedName)
	// Evaluations, when set, bounds how many policies select from their
	// tags at once. Selecting is CPU work only (thousands of versions
	// parsed and compared), so more at once than there are cores gains no
	// time and multiplies the garbage in flight: the reflector sizes it to
	// GOMAXPROCS.
	Evaluations chan struct{}
}

// Evaluation is what the steps of one pass hand to each other.
type Evaluation struct {
	repo *imagev1.ImageRepository
	tags []string
}

// Kind declares the ImagePolicy reconciliation for the reconcile skeleton.
func (r *Reconciler) Kind() reconcile.Kind[*imagev1.ImagePolicy, Evaluation] {
	return reconcile.Kind[*imagev1.ImagePolicy, Evaluation]{
		Name: imagev1.ImagePolicyKind,
		New:  func() *imagev1.ImagePolicy { return &imagev1.ImagePolicy{} },
		Plan: []reconcile.Step[*imagev1.ImagePolicy, Evaluation]{
			{Name: "repository", Run: r.reconcileRepository},
			{Name: "tags", Run: r.reconcileTags},
			{Name: "policy", Run: r.reconcilePolicy},
		},
		Succeeded: func(obj *imagev1.ImagePolicy) (string, string) {
			return meta.SucceededReason, readyMessage(obj.Status.LatestRef)
		},
		Indexes: []reconcile.Index[*imagev1.ImagePolicy]{{Field: RepositoryIndex, Keys: repositoryKey}},
		Watches: []reconcile.Watch{{
			Object:     &imagev1.ImageRepository{},
			Map:        r.policiesOf,
			Predicates: []predicate.Predicate{repositoryChanged()},
		}},
	}
}

// readyMessage is Flux's Ready message of an ImagePolicy.
func readyMessage(ref *imagev1.ImageRef) string {
	if ref == nil {
		return "no latest image"
	}
	return fmt.Sprintf("Latest image tag for '%s' resolved to %s", ref.Name, ref.Tag)
}

// repositoryRef is the namespace and name of the policy's ImageRepository.
func repositoryRef(obj *imagev1.ImagePolicy) types.NamespacedName {
	ns := obj.Spec.ImageRepositoryRef.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	return types.NamespacedName{Namespace: ns, Name: obj.Spec.ImageRepositoryRef.Name}
}

func repositoryKey(obj *imagev1.ImagePolicy) []string {
	return []string{repositoryRef(obj).String()}
}

// policiesOf lists the policies that refer to a repository, in every
// namespace (a policy may refer across namespaces).
func (r *Reconciler) policiesOf(ctx context.Context, o client.Object) []ctrl.Request {
	key := types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}.String()
	return reconcile.Indexed(ctx, r.Client, &imagev1.ImagePolicyList{}, client.MatchingFields{RepositoryIndex: key})
}

// repositoryChanged passes what a policy must react to: a repository that
// appears or goes, a new spec (accessFrom, image), a new scan revision, a
// repository that becomes ready. A scan that found the same tags passes
// nothing, and neither does a repository that stops being ready (a scan in
// progress, a registry down): its policies keep their pick rather than
// flap to DependencyNotReady and back.
func repositoryChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return true },
		DeleteFunc:  func(event.DeleteEvent) bool { return true },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*imagev1.ImageRepository)
			n, ok2 := e.ObjectNew.(*imagev1.ImageRepository)
			if !ok1 || !ok2 {
				return false
			}
			return o.Generation != n.Generation || revision(o) != revision(n) ||
				(!reconcile.IsTrue(o, meta.ReadyCondition) && reconcile.IsTrue(n, meta.ReadyCondition))
		},
	}
}

func revision(repo *imagev1.ImageRepository) string {
	if repo.Status.LastScanResult == nil {
		return ""
	}
	return repo.Status.LastScanResult.Revision
}
