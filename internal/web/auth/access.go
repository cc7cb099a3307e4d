package auth

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/internal/kinds"
)

// AccessReviewer creates SubjectAccessReviews; client-go's
// AuthorizationV1().SubjectAccessReviews() is one.
type AccessReviewer interface {
	Create(ctx context.Context, review *authorizationv1.SubjectAccessReview, opts metav1.CreateOptions) (*authorizationv1.SubjectAccessReview, error)
}

// Defaults of AccessOptions.
const (
	DefaultAccessTTL     = 30 * time.Second
	DefaultAccessEntries = 50000
)

// AccessOptions configure an Access.
type AccessOptions struct {
	// TTL is how long an answer is reused; 0 is DefaultAccessTTL (30 s).
	TTL time.Duration
	// Max bounds the cached answers; past it the oldest goes. 0 is
	// DefaultAccessEntries.
	Max int
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Access answers "may this viewer do this?" with SubjectAccessReviews, each
// answer cached for the TTL per (user and groups, verb, group, resource,
// namespace, name). Every list, page, graph node, event and stream message
// of the UI is filtered through it. Safe for concurrent use.
type Access struct {
	reviews AccessReviewer
	ttl     time.Duration
	max     int
	now     func() time.Time

	mu    sync.Mutex
	cache map[accessKey]*list.Element // of *accessEntry
	order *list.List                  // oldest first
}

type accessKey struct {
	user                                      string
	verb, group, resource, namespace, objName string
}

type accessEntry struct {
	key     accessKey
	allowed bool
	expires time.Time
}

// NewAccess returns an Access asking reviews.
func NewAccess(reviews AccessReviewer, opts AccessOptions) *Access {
	a := &Access{reviews: reviews, ttl: opts.TTL, max: opts.Max, now: opts.Now,
		cache: map[accessKey]*list.Element{}, order: list.New()}
	if a.ttl <= 0 {
		a.ttl = DefaultAccessTTL
	}
	if a.max <= 0 {
		a.max = DefaultAccessEntries
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a
}

// readVerbs are the only verbs an anonymous visitor is ever allowed.
var readVerbs = map[string]bool{"get": true, "list": true, "watch": true}

// Allowed says whether u may verb the resource (API group group, plural
// resource, in namespace, "" for cluster-wide; name "" for any object).
// The key of the cache includes name: a Role may name single objects
// (resourceNames), so an answer for one name says nothing of another. An
// anonymous visitor is never allowed anything but get, list and watch,
// whatever their role says. An error is a failure to ask, never cached.
func (a *Access) Allowed(ctx context.Context, u User, verb, group, resource, namespace, name string) (bool, error) {
	if u.Anonymous && !readVerbs[verb] {
		return false, nil
	}
	key := accessKey{user: u.key(), verb: verb, group: group, resource: resource, namespace: namespace, objName: name}
	now := a.now()
	a.mu.Lock()
	if e, ok := a.cache[key]; ok {
		entry := e.Value.(*accessEntry)
		if now.Before(entry.expires) {
			a.mu.Unlock()
			return entry.allowed, nil
		}
		delete(a.cache, key)
		a.order.Remove(e)
	}
	a.mu.Unlock()

	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   u.Name,
		UID:    u.UID,
		Groups: u.Groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: verb, Group: group, Resource: resource, Namespace: namespace, Name: name,
		},
	}}
	if len(u.Extra) > 0 {
		review.Spec.Extra = make(map[string]authorizationv1.ExtraValue, len(u.Extra))
		for k, v := range u.Extra {
			review.Spec.Extra[k] = v
		}
	}
	got, err := a.reviews.Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("asking whether %s may %s %s in %q: %w", u.Name, verb, resourceName(group, resource), namespace, err)
	}
	allowed := got.Status.Allowed && !got.Status.Denied

	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.cache[key]; ok { // a concurrent call got here first
		a.order.Remove(e)
	}
	for a.order.Len() >= a.max {
		oldest := a.order.Front()
		delete(a.cache, oldest.Value.(*accessEntry).key)
		a.order.Remove(oldest)
	}
	a.cache[key] = a.order.PushBack(&accessEntry{key: key, allowed: allowed, expires: now.Add(a.ttl)})
	return allowed, nil
}

func resourceName(group, resource string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

// Visible returns the objects of kind k among objs that u may see: all of
// a namespace's when u may list the kind there, else those u may get by
// name. The order of objs is kept.
func (a *Access) Visible(ctx context.Context, u User, k kinds.Kind, objs []kinds.Object) ([]kinds.Object, error) {
	listable := map[string]bool{}
	out := make([]kinds.Object, 0, len(objs))
	for _, obj := range objs {
		ns := obj.GetNamespace()
		ok, seen := listable[ns]
		if !seen {
			var err error
			if ok, err = a.Allowed(ctx, u, "list", k.Group, k.Resource, ns, ""); err != nil {
				return nil, err
			}
			listable[ns] = ok
		}
		if !ok {
			var err error
			if ok, err = a.Allowed(ctx, u, "get", k.Group, k.Resource, ns, obj.GetName()); err != nil {
				return nil, err
			}
		}
		if ok {
			out = append(out, obj)
		}
	}
	return out, nil
}
