// Package actor sends the web UI's actions to the API server as the person
// who asked: with their bearer token after a token login, with the
// kubeconfig's own credentials under `flux ui`. The UI's own identity (the
// controller's, in the cluster) never writes: auth.ConfigFor strips it.
package actor

import (
	"context"
	"fmt"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web/auth"
)

// FieldManager names the UI in the managedFields of what it patches.
const FieldManager = "driftless-web"

// selfReviewTTL is how long a SelfSubjectAccessReview's answer is kept.
const selfReviewTTL = 30 * time.Second

// Reviewer answers whether a user may act: the controller's cached
// SubjectAccessReviews (*auth.Access).
type Reviewer interface {
	Allowed(ctx context.Context, u auth.User, verb, group, resource, namespace, name string) (bool, error)
}

// Actor implements web.Actor.
type Actor struct {
	base   *rest.Config
	review Reviewer

	mu   sync.Mutex
	self map[selfKey]selfAnswer
	now  func() time.Time
}

type selfKey struct{ user, group, resource, namespace, name string }

type selfAnswer struct {
	allowed bool
	at      time.Time
}

// New returns an Actor over base: the controller's rest.Config in the
// cluster (whose credentials auth.ConfigFor replaces with the session's
// token), the user's kubeconfig under `flux ui`. MayPatch asks review when
// it is set (the controller's SubjectAccessReviews), else the API server
// with a SelfSubjectAccessReview as the user.
func New(base *rest.Config, review Reviewer) *Actor {
	return &Actor{base: base, review: review, self: map[selfKey]selfAnswer{}, now: time.Now}
}

// Patch sends a merge patch to the object as sess's user.
func (a *Actor) Patch(ctx context.Context, sess auth.Session, k kinds.Kind, key types.NamespacedName, patch []byte) error {
	cfg, err := auth.ConfigFor(a.base, sess)
	if err != nil {
		return err
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return fmt.Errorf("make a client for %s: %w", sess.User.Name, err)
	}
	defer hc.CloseIdleConnections()
	dyn, err := dynamic.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return fmt.Errorf("make a client for %s: %w", sess.User.Name, err)
	}
	gvr := k.GroupVersion().WithResource(k.Resource)
	_, err = dyn.Resource(gvr).Namespace(key.Namespace).Patch(ctx, key.Name, types.MergePatchType, patch,
		metav1.PatchOptions{FieldManager: FieldManager})
	return err
}

// MayPatch tells whether sess's user may patch the object.
func (a *Actor) MayPatch(ctx context.Context, sess auth.Session, k kinds.Kind, key types.NamespacedName) (bool, error) {
	if sess.User.Anonymous {
		return false, nil
	}
	if a.review != nil {
		return a.review.Allowed(ctx, sess.User, "patch", k.Group, k.Resource, key.Namespace, key.Name)
	}
	sk := selfKey{sess.User.Name, k.Group, k.Resource, key.Namespace, key.Name}
	a.mu.Lock()
	ans, ok := a.self[sk]
	a.mu.Unlock()
	if ok && a.now().Sub(ans.at) < selfReviewTTL {
		return ans.allowed, nil
	}
	cfg, err := auth.ConfigFor(a.base, sess)
	if err != nil {
		return false, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return false, fmt.Errorf("make a client for %s: %w", sess.User.Name, err)
	}
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: "patch", Group: k.Group, Resource: k.Resource, Namespace: key.Namespace, Name: key.Name,
		},
	}}
	got, err := kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("ask whether %s may patch %s %s: %w", sess.User.Name, k.Kind, key, err)
	}
	a.mu.Lock()
	if len(a.self) > 4096 {
		a.self = map[selfKey]selfAnswer{} // one user's pages: a bound, not a cache policy
	}
	a.self[sk] = selfAnswer{allowed: got.Status.Allowed, at: a.now()}
	a.mu.Unlock()
	return got.Status.Allowed, nil
}
