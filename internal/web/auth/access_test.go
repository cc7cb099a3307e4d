package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/kinds"
)

// fakeAccess allows what allow says ("user verb resource namespace name")
// and counts the reviews it answers.
type fakeAccess struct {
	allow map[string]bool
	err   error
	calls int
	last  *authorizationv1.SubjectAccessReview
}

func (f *fakeAccess) Create(_ context.Context, r *authorizationv1.SubjectAccessReview, _ metav1.CreateOptions) (*authorizationv1.SubjectAccessReview, error) {
	f.calls++
	f.last = r
	if f.err != nil {
		return nil, f.err
	}
	a := r.Spec.ResourceAttributes
	out := r.DeepCopy()
	out.Status.Allowed = f.allow[fmt.Sprintf("%s %s %s %s %s", r.Spec.User, a.Verb, a.Resource, a.Namespace, a.Name)] ||
		f.allow[fmt.Sprintf("%s %s %s %s ", r.Spec.User, a.Verb, a.Resource, a.Namespace)]
	return out, nil
}

func TestAllowedCache(t *testing.T) {
	clk := newClock()
	fake := &fakeAccess{allow: map[string]bool{"alice patch kustomizations apps ": true}}
	a := NewAccess(fake, AccessOptions{Now: clk.Now})
	ctx := context.Background()
	ask := func(u User, verb, ns string) bool {
		t.Helper()
		ok, err := a.Allowed(ctx, u, verb, "kustomize.toolkit.fluxcd.io", "kustomizations", ns, "")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	if !ask(alice, "patch", "apps") || fake.calls != 1 {
		t.Fatalf("first ask: calls %d", fake.calls)
	}
	spec := fake.last.Spec
	if spec.User != "alice" || len(spec.Groups) != 1 || spec.ResourceAttributes.Group != "kustomize.toolkit.fluxcd.io" {
		t.Errorf("review spec %+v", spec)
	}
	// Hit.
	clk.Add(29 * time.Second)
	if !ask(alice, "patch", "apps") || fake.calls != 1 {
		t.Errorf("within 30 s: calls %d, want 1 (cache hit)", fake.calls)
	}
	// Misses: another verb, namespace, group set, user.
	if ask(alice, "delete", "apps") || ask(alice, "patch", "infra") || fake.calls != 3 {
		t.Errorf("other verb/namespace: calls %d, want 3", fake.calls)
	}
	ask(User{Name: "alice", Groups: []string{"devs", "admins"}}, "patch", "apps")
	if fake.calls != 4 {
		t.Errorf("other groups: calls %d, want 4", fake.calls)
	}
	// Denials are cached too.
	if ask(alice, "delete", "apps") || fake.calls != 4 {
		t.Errorf("cached denial: calls %d, want 4", fake.calls)
	}
	// Expiry.
	clk.Add(time.Second)
	if !ask(alice, "patch", "apps") || fake.calls != 5 {
		t.Errorf("after 30 s: calls %d, want 5 (asked again)", fake.calls)
	}
	// The group order does not matter.
	b := User{Name: "bob", Groups: []string{"x", "y"}}
	ask(b, "get", "apps")
	ask(User{Name: "bob", Groups: []string{"y", "x"}}, "get", "apps")
	if fake.calls != 6 {
		t.Errorf("reordered groups: calls %d, want 6", fake.calls)
	}

	// Errors are not cached.
	fake.err = errors.New("apiserver down")
	if _, err := a.Allowed(ctx, alice, "list", "", "events", "apps", ""); err == nil {
		t.Error("error swallowed")
	}
	fake.err = nil
	if _, err := a.Allowed(ctx, alice, "list", "", "events", "apps", ""); err != nil || fake.calls != 8 {
		t.Errorf("after an error: %v, calls %d, want 8", err, fake.calls)
	}
}

func TestAllowedCacheBound(t *testing.T) {
	clk := newClock()
	fake := &fakeAccess{}
	a := NewAccess(fake, AccessOptions{Now: clk.Now, Max: 3})
	ctx := context.Background()
	for i := range 10 {
		if _, err := a.Allowed(ctx, alice, "get", "", "configmaps", fmt.Sprintf("ns%d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(a.cache); n != 3 || a.order.Len() != 3 {
		t.Errorf("cache holds %d (%d), bound 3", n, a.order.Len())
	}
	_, _ = a.Allowed(ctx, alice, "get", "", "configmaps", "ns9", "")
	_, _ = a.Allowed(ctx, alice, "get", "", "configmaps", "ns0", "")
	if fake.calls != 11 {
		t.Errorf("calls %d, want 11: ns9 cached, ns0 evicted", fake.calls)
	}
}

func TestAnonymousNeverActs(t *testing.T) {
	fake := &fakeAccess{allow: map[string]bool{
		AnonymousName + " patch kustomizations apps ": true,
		AnonymousName + " list kustomizations apps ":  true,
	}}
	a := NewAccess(fake, AccessOptions{})
	anon := AnonymousUser()
	if !anon.Anonymous || anon.Name != "driftless:web:anonymous" || anon.Groups[0] != "driftless:web:viewers" {
		t.Fatalf("anonymous user %+v", anon)
	}
	ctx := context.Background()
	if ok, _ := a.Allowed(ctx, anon, "patch", "kustomize.toolkit.fluxcd.io", "kustomizations", "apps", ""); ok {
		t.Error("anonymous may patch")
	}
	if ok, _ := a.Allowed(ctx, anon, "list", "kustomize.toolkit.fluxcd.io", "kustomizations", "apps", ""); !ok {
		t.Error("anonymous may not read what its role allows")
	}
	if _, err := ConfigFor(nil, Session{User: anon, Mode: ModeLocal}); !errors.Is(err, ErrAnonymousAction) {
		t.Errorf("ConfigFor anonymous: %v", err)
	}
}

func TestVisible(t *testing.T) {
	k, ok := kinds.ByKind("Kustomization")
	if !ok {
		t.Fatal("no Kustomization kind")
	}
	obj := func(ns, name string) kinds.Object {
		return &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	}
	objs := []kinds.Object{obj("apps", "a"), obj("secret", "s1"), obj("apps", "b"), obj("shared", "mine"), obj("shared", "theirs")}
	fake := &fakeAccess{allow: map[string]bool{
		"alice list kustomizations apps ":       true,
		"alice get kustomizations shared mine":  true,
		"alice get kustomizations secret other": true,
	}}
	a := NewAccess(fake, AccessOptions{})
	got, err := a.Visible(context.Background(), alice, k, objs)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range got {
		names = append(names, o.GetNamespace()+"/"+o.GetName())
	}
	if fmt.Sprint(names) != "[apps/a apps/b shared/mine]" {
		t.Errorf("visible %v", names)
	}
	if fake.last.Spec.ResourceAttributes.Group != "kustomize.toolkit.fluxcd.io" {
		t.Errorf("reviewed group %q", fake.last.Spec.ResourceAttributes.Group)
	}
	// list per namespace (3) + get per object where list is denied (3).
	if fake.calls != 6 {
		t.Errorf("calls %d, want 6", fake.calls)
	}
}
