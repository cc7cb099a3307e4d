package web

import (
	"context"
	"errors"
	"log/slog"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web/auth"
)

// Access answers whether a viewer may verb a resource; *auth.Access (one
// SubjectAccessReview per question, cached for 30 s) is the one the
// controller uses. The UI asks only get and list.
type Access interface {
	Allowed(ctx context.Context, u auth.User, verb, group, resource, namespace, name string) (bool, error)
}

// accessStore is a Store filtered by the RBAC of the viewer in each call's
// context (viewerKey, put there by authenticate): in the cluster, the
// shared cache holds every namespace's objects, and a viewer must see only
// those the API server would show them. An object is visible when the
// viewer may list its kind in its namespace, or get it by name (a Role may
// name single objects): List keeps only those, and Get answers NotFound
// for the others, as for a missing object, so that no page confirms that
// a hidden object exists.
//
// Get of a type outside the catalogue (the Secret whose existence a static
// kind's readiness checks) passes through: its answer shows only as the
// readiness of an object the viewer may see, in that object's namespace.
//
// Subscribe passes through too: a stream checks each change against its
// own viewer before sending (visibleChange), on the stream's goroutine,
// since a review may go over the network.
type accessStore struct {
	Store
	access Access
	log    *slog.Logger
}

// errAccessCheck is what a page shows when a review could not be asked:
// the cause (logged) names the namespace, which may be one the viewer
// may not see.
var errAccessCheck = errors.New("could not check what you may see: a SubjectAccessReview failed (the server's log says why)")

// visible tells whether the viewer in ctx may see the object of kind k at
// namespace/name. A request without a viewer sees nothing.
func visible(ctx context.Context, a Access, k kinds.Kind, namespace, name string) (bool, error) {
	u, ok := viewerFrom(ctx)
	if !ok || u.Name == "" {
		return false, nil
	}
	if ok, err := a.Allowed(ctx, u, "list", k.Group, k.Resource, namespace, ""); err != nil || ok {
		return ok, err
	}
	return a.Allowed(ctx, u, "get", k.Group, k.Resource, namespace, name)
}

// viewerFrom is the user of the viewer that authenticate put in ctx.
func viewerFrom(ctx context.Context) (auth.User, bool) {
	v, ok := ctx.Value(viewerKey{}).(Viewer)
	return v.User, ok
}

// List implements Store: the objects the viewer may see, in the
// underlying store's order.
func (s *accessStore) List(ctx context.Context, k kinds.Kind, namespace string) ([]kinds.Object, error) {
	objs, err := s.Store.List(ctx, k, namespace)
	if err != nil {
		return nil, err
	}
	u, ok := viewerFrom(ctx)
	if !ok || u.Name == "" {
		return nil, nil
	}
	// visible's two questions, the first asked once per namespace rather
	// than once per object: 1,000 objects in a few namespaces are a few
	// answers, and an overview lists them four times a second.
	mayList := map[string]bool{}
	out := make([]kinds.Object, 0, len(objs))
	for _, o := range objs {
		ns := o.GetNamespace()
		may, asked := mayList[ns]
		if !asked {
			if may, err = s.access.Allowed(ctx, u, "list", k.Group, k.Resource, ns, ""); err != nil {
				s.log.Error("check access", "kind", k.Kind, "error", err)
				return nil, errAccessCheck
			}
			mayList[ns] = may
		}
		if !may {
			if may, err = s.access.Allowed(ctx, u, "get", k.Group, k.Resource, ns, o.GetName()); err != nil {
				s.log.Error("check access", "kind", k.Kind, "error", err)
				return nil, errAccessCheck
			}
		}
		if may {
			out = append(out, o)
		}
	}
	return out, nil
}

// Get implements Store: NotFound, whether it exists or not, for an object
// of a catalogue kind the viewer may not see. It asks before reading, so
// that the answer takes the same path for a hidden and a missing object.
func (s *accessStore) Get(ctx context.Context, key types.NamespacedName, obj kinds.Object) error {
	if k, ok := kinds.Of(obj); ok {
		ok, err := visible(ctx, s.access, k, key.Namespace, key.Name)
		if err != nil {
			s.log.Error("check access", "kind", k.Kind, "error", err)
			return errAccessCheck
		}
		if !ok {
			return apierrors.NewNotFound(schema.GroupResource{Group: k.Group, Resource: k.Resource}, key.Name)
		}
	}
	return s.Store.Get(ctx, key, obj)
}

// visibleChanges drops from changed those the viewer in ctx may not see;
// without an Access every change stays. A change whose check fails is
// dropped (and logged): a stream never sends what it could not check.
func (s *server) visibleChanges(ctx context.Context, changed map[string]Change) map[string]Change {
	if s.access == nil {
		return changed
	}
	for key, c := range changed {
		ok, err := visible(ctx, s.access, c.Kind, c.Object.GetNamespace(), c.Object.GetName())
		if err != nil {
			s.log.Error("check access for a live update", "kind", c.Kind.Kind, "namespace", c.Object.GetNamespace(),
				"name", c.Object.GetName(), "error", err)
		}
		if !ok {
			delete(changed, key)
		}
	}
	return changed
}
