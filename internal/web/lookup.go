package web

import (
	"context"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/kinds"
)

// The query parameters of the "who manages this?" form: apart from the
// overview filter's kind and namespace, so that both live in one URL.
const (
	lookupKindParam      = "who-kind"
	lookupNamespaceParam = "who-namespace"
	lookupNameParam      = "who-name"
)

// lookupQuery is what the form asks: a kind as kubectl takes it
// (Deployment, deployments.apps), a namespace and a name.
type lookupQuery struct{ Kind, Namespace, Name string }

// lookupData is the form and, once asked, its answer: the owner when the
// viewer may see it, else a sentence saying why there is none.
type lookupData struct {
	Query lookupQuery
	Asked bool
	// Object is the object asked about, as "Deployment apps/podinfo".
	Object string
	// Owner is the Kustomization or HelmRelease that applied it.
	Owner *view
	// Answer is the answer in words when there is no Owner to show.
	Answer string
}

// lookup answers the "who manages this?" query in q; nil without an
// ObjectReader (the overview then leaves the form out). The object is read
// only once the viewer may get it, and the owner through the server's
// Store, which the viewer's RBAC filters: a hidden owner reads as missing.
func (s *server) lookup(ctx context.Context, q url.Values) *lookupData {
	if s.objects == nil {
		return nil
	}
	d := &lookupData{Query: lookupQuery{
		Kind:      strings.TrimSpace(q.Get(lookupKindParam)),
		Namespace: strings.TrimSpace(q.Get(lookupNamespaceParam)),
		Name:      strings.TrimSpace(q.Get(lookupNameParam)),
	}}
	if !q.Has(lookupKindParam) && !q.Has(lookupNameParam) {
		return d
	}
	d.Asked = true
	d.Answer = s.answer(ctx, d)
	return d
}

// answer fills d.Object and d.Owner, or says in words why it cannot.
func (s *server) answer(ctx context.Context, d *lookupData) string {
	lq := d.Query
	if lq.Kind == "" || lq.Name == "" {
		return "Give a kind and a name, and the namespace of a namespaced object."
	}
	k, err := s.objects.Resolve(lq.Kind)
	if err != nil {
		if apimeta.IsNoMatchError(err) {
			if guess := s.suggestKind(lq.Kind); guess != "" {
				return "No kind " + lq.Kind + ": did you mean " + guess + "?"
			}
			return "No kind " + lq.Kind + " in this cluster: write it as kubectl does, e.g. Deployment or deployments.apps."
		}
		s.log.Error("resolve a kind for the lookup", "kind", lq.Kind, "error", err)
		return "Cannot look up kind " + lq.Kind + ": asking the API server which kinds it serves failed (the server's log says why)."
	}
	ns := lq.Namespace
	if !k.Namespaced {
		ns = ""
	} else if ns == "" {
		return k.Kind + " is a namespaced kind: give the object's namespace."
	}
	d.Object = k.Kind + " " + ns + "/" + lq.Name
	if ns == "" {
		d.Object = k.Kind + " " + lq.Name
	}
	notVisible := d.Object + ": not found or not visible to you."
	if s.access != nil {
		ok, err := s.mayGet(ctx, k, ns, lq.Name)
		if err != nil {
			s.log.Error("check access for the lookup", "kind", k.Kind, "error", err)
			return errAccessCheck.Error()
		}
		if !ok {
			return notVisible
		}
	}
	obj, err := s.objects.Get(ctx, k, ns, lq.Name)
	if err != nil {
		if !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) {
			s.log.Error("read the object of the lookup", "kind", k.Kind, "namespace", ns, "name", lq.Name, "error", err)
			return "Cannot read " + d.Object + ": the read failed (the server's log says why)."
		}
		return notVisible
	}
	ok, key, managed := kinds.ManagedBy(obj.GetLabels())
	if !managed {
		return d.Object + " is not managed by Flux: it has neither the " + kustomizev1.NameLabel + " and " +
			kustomizev1.NamespaceLabel + " labels nor " + helmv2.NameLabel + " and " + helmv2.NamespaceLabel + "."
	}
	owner := ok.New()
	if err := s.store.Get(ctx, key, owner); err != nil {
		if !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) {
			s.log.Error("read the owner of the lookup", "kind", ok.Kind, "error", err)
		}
		return d.Object + " is managed by a " + ok.Kind + " that is not found or not visible to you."
	}
	v := newView(ctx, s.store.Get, ok, owner, s.now())
	d.Owner = &v
	return ""
}

// mayGet tells whether the viewer in ctx may get the object of kind k at
// namespace/name: a list in its namespace, or a get by name.
func (s *server) mayGet(ctx context.Context, k ObjectKind, namespace, name string) (bool, error) {
	u, ok := viewerFrom(ctx)
	if !ok || u.Name == "" {
		return false, nil
	}
	if ok, err := s.access.Allowed(ctx, u, "list", k.Group, k.Resource, namespace, ""); err != nil || ok {
		return ok, err
	}
	return s.access.Allowed(ctx, u, "get", k.Group, k.Resource, namespace, name)
}

// suggestKind is the kind the cluster serves nearest to typed (at most two
// edits apart, ignoring case and any ".group"), "" when none is.
func (s *server) suggestKind(typed string) string {
	names, err := s.objects.Kinds()
	if err != nil {
		return ""
	}
	want, _, _ := strings.Cut(strings.ToLower(typed), ".")
	best, bestDist := "", 3
	for _, n := range names {
		if d := editDistance(want, strings.ToLower(n)); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes:
// kind names are ASCII.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
