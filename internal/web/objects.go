package web

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ObjectKind is a kind the cluster serves, as an ObjectReader resolved it:
// what a read needs (the resource and whether it is namespaced) and what an
// RBAC question names (group and resource).
type ObjectKind struct {
	schema.GroupVersionKind
	// Resource is the plural resource name, "deployments".
	Resource string
	// Namespaced is false for a cluster-scoped kind (Namespace,
	// ClusterRole), whose objects are read without a namespace.
	Namespaced bool
}

// ObjectReader reads objects of any kind the cluster serves, not only the
// catalogue's: the inventory tree shows the health of what a Kustomization
// applied, and the "who manages this?" lookup reads the labels of any
// object. The Store cannot: it holds the catalogue's kinds only.
//
// In the cluster the reader acts as the controller, so the server asks the
// viewer's RBAC (Options.Access) before showing anything it read; for `flux
// ui` it acts with the user's kubeconfig and the API server answers
// Forbidden. Errors are the API server's (apierrors.IsNotFound,
// IsForbidden), and meta.IsNoMatchError for a kind it does not serve.
//
// objectreader.Reader is the implementation, over a dynamic client and a
// RESTMapper that caches discovery.
type ObjectReader interface {
	// KindFor resolves an inventory entry's group and kind; version, when
	// not empty, is the version the entry was applied at.
	KindFor(gk schema.GroupKind, version string) (ObjectKind, error)
	// Resolve resolves a kind as a person types it, as kubectl takes it:
	// "Deployment", "deployment", "deployments", "deployments.apps",
	// "deploy".
	Resolve(typed string) (ObjectKind, error)
	// Kinds are the kind names the cluster serves, for a "did you mean"
	// after a typing mistake.
	Kinds() ([]string, error)
	// Get reads one object; namespace is ignored for a cluster-scoped kind.
	Get(ctx context.Context, k ObjectKind, namespace, name string) (*unstructured.Unstructured, error)
	// List reads every object of kind k in namespace ("" for a
	// cluster-scoped kind).
	List(ctx context.Context, k ObjectKind, namespace string) ([]unstructured.Unstructured, error)
}
