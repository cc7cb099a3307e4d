package web

import (
	"context"
	"hash/fnv"
	"net/url"
	"sort"
	"strconv"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/engine/apply"
	"github.com/driftless/driftless/internal/kinds"
)

// Bounds of the inventory tree, so that a page stays readable and its
// reads few whatever the inventory holds.
const (
	// inventoryPageSize is how many entries of one kind in one namespace
	// show at once; past it the kind collapses to a count, paged on
	// demand.
	inventoryPageSize = 200
	// inventoryListFrom: a kind with more shown entries than this in one
	// namespace is read with one List, fewer with one Get each.
	inventoryListFrom = 4
	// inventoryMaxDepth is how many levels of nested Kustomizations and
	// HelmReleases expand in place; deeper ones link to their own page.
	inventoryMaxDepth = 3
)

// inventoryData is the inventory tree of one Kustomization or HelmRelease:
// its entries grouped by namespace, then kind.
type inventoryData struct {
	Total      int
	Namespaces []inventoryNamespace
	// Problems are entries that could not be read as IDs.
	Problems []string
}

// inventoryNamespace is one namespace's entries; "" is cluster-scoped.
type inventoryNamespace struct {
	Namespace string
	Kinds     []inventoryKind
}

// inventoryKind is one kind's entries in one namespace. Past
// inventoryPageSize it is Collapsed to its Count until its page parameter
// asks for a page.
type inventoryKind struct {
	Kind, Group string
	Count       int
	// Anchor is the element id the paging links return to, so that a
	// page of a long tree opens where the reader clicked.
	Anchor    string
	Collapsed bool
	// ExpandLink shows the first page of a collapsed kind.
	ExpandLink string
	// Page of Pages, with the links around it; Pages is 0 when the kind
	// fits on one page.
	Page, Pages                      int
	PrevLink, NextLink, CollapseLink string
	Entries                          []inventoryEntry
}

// inventoryEntry is one object of the inventory, with its kstatus health
// (or "no access" and nothing more for an object the viewer may not get).
type inventoryEntry struct {
	Name string
	// Link is the object page, for a kind of the catalogue the viewer may
	// see.
	Link    string
	Badge   badge
	Message string
	// Current is set when the health is Current: its message then goes
	// in a title rather than its own line.
	Current bool
	// Note says why a Kustomization or HelmRelease does not expand here.
	Note string
	// Nested is what a Kustomization or HelmRelease among the entries
	// applied.
	Nested *inventoryData
	// visible is set once the viewer may read the object.
	visible bool
}

// inventoryRef is one inventory entry as the status writes it.
type inventoryRef struct{ ID, Version string }

// inventoryOf is obj's inventory, and whether its kind has one: the
// entries of a Kustomization's or a HelmRelease's status.inventory.
func inventoryOf(obj kinds.Object) ([]inventoryRef, bool) {
	var refs []inventoryRef
	switch o := obj.(type) {
	case *kustomizev1.Kustomization:
		if o.Status.Inventory != nil {
			for _, e := range o.Status.Inventory.Entries {
				refs = append(refs, inventoryRef{ID: e.ID, Version: e.Version})
			}
		}
	case *helmv2.HelmRelease:
		if o.Status.Inventory != nil {
			for _, e := range o.Status.Inventory.Entries {
				refs = append(refs, inventoryRef{ID: e.ID, Version: e.Version})
			}
		}
	default:
		return nil, false
	}
	return refs, true
}

// inventoryTree builds the tree of what obj (of kind k) applied, for the
// object page at path with query q (whose page parameters choose the
// pages shown); nil when the UI has no ObjectReader or k no inventory.
func (s *server) inventoryTree(ctx context.Context, path string, q url.Values, k kinds.Kind, obj kinds.Object) *inventoryData {
	if s.objects == nil {
		return nil
	}
	refs, ok := inventoryOf(obj)
	if !ok {
		return nil
	}
	b := &inventoryBuilder{s: s, path: path, query: q, seen: map[string]bool{treeKey(k, obj.GetNamespace(), obj.GetName()): true}}
	return b.build(ctx, "", refs, 0)
}

// inventoryBuilder walks one page's tree; seen holds the Kustomizations
// and HelmReleases expanded so far, so that one that applies itself
// (through others) or shows twice expands once.
type inventoryBuilder struct {
	s     *server
	path  string
	query url.Values
	seen  map[string]bool
}

// treeKey names an object of the catalogue in seen.
func treeKey(k kinds.Kind, namespace, name string) string {
	return k.Kind + "/" + namespace + "/" + name
}

// bucketKey is one kind in one namespace.
type bucketKey struct {
	Namespace string
	schema.GroupKind
}

// bucket is the entries of one bucketKey; Version is the first entry's.
type bucket struct {
	Names   []string
	Version string
}

// build is the tree of refs, owned by the object owner names ("" for the
// page's own object) at depth.
func (b *inventoryBuilder) build(ctx context.Context, owner string, refs []inventoryRef, depth int) *inventoryData {
	d := &inventoryData{}
	buckets := map[bucketKey]*bucket{}
	for _, r := range refs {
		ref, err := apply.ParseID(r.ID, r.Version)
		if err != nil {
			d.Problems = append(d.Problems, "cannot read an inventory entry: "+err.Error())
			continue
		}
		key := bucketKey{Namespace: ref.Namespace, GroupKind: schema.GroupKind{Group: ref.Group, Kind: ref.Kind}}
		bk := buckets[key]
		if bk == nil {
			bk = &bucket{Version: ref.Version}
			buckets[key] = bk
		}
		bk.Names = append(bk.Names, ref.Name)
		d.Total++
	}
	keys := make([]bucketKey, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, c := keys[i], keys[j]
		if a.Namespace != c.Namespace {
			return a.Namespace < c.Namespace
		}
		if a.Kind != c.Kind {
			return a.Kind < c.Kind
		}
		return a.Group < c.Group
	})
	for _, key := range keys {
		bk := buckets[key]
		sort.Strings(bk.Names)
		if n := len(d.Namespaces); n == 0 || d.Namespaces[n-1].Namespace != key.Namespace {
			d.Namespaces = append(d.Namespaces, inventoryNamespace{Namespace: key.Namespace})
		}
		ns := &d.Namespaces[len(d.Namespaces)-1]
		ns.Kinds = append(ns.Kinds, b.kind(ctx, owner, key, bk, depth))
	}
	return d
}

// kind is one bucket: collapsed past inventoryPageSize unless its page
// parameter names a page, then that page's entries, read.
func (b *inventoryBuilder) kind(ctx context.Context, owner string, key bucketKey, bk *bucket, depth int) inventoryKind {
	ik := inventoryKind{Kind: key.Kind, Group: key.Group, Count: len(bk.Names)}
	names := bk.Names
	if len(names) > inventoryPageSize {
		param := pageParam(owner, key)
		ik.Anchor = anchorOf(param)
		page, err := strconv.Atoi(b.query.Get(param))
		if err != nil || page < 1 {
			ik.Collapsed = true
			ik.ExpandLink = b.link(param, "1") + "#" + ik.Anchor
			return ik
		}
		ik.Pages = (len(names) + inventoryPageSize - 1) / inventoryPageSize
		ik.Page = min(page, ik.Pages)
		if ik.Page > 1 {
			ik.PrevLink = b.link(param, strconv.Itoa(ik.Page-1))
		}
		if ik.Page < ik.Pages {
			ik.NextLink = b.link(param, strconv.Itoa(ik.Page+1))
		}
		ik.CollapseLink = b.link(param, "")
		for _, l := range []*string{&ik.PrevLink, &ik.NextLink, &ik.CollapseLink} {
			if *l != "" {
				*l += "#" + ik.Anchor
			}
		}
		start := (ik.Page - 1) * inventoryPageSize
		names = names[start:min(start+inventoryPageSize, len(names))]
	}
	ik.Entries = b.s.readEntries(ctx, key, bk.Version, names)
	b.expand(ctx, key, ik.Entries, depth)
	return ik
}

// pageParam is the query parameter that pages one kind of one tree:
// "inv" then the owner for a nested tree, the namespace and Kind.group.
func pageParam(owner string, key bucketKey) string {
	p := "inv"
	if owner != "" {
		p += ":" + owner
	}
	p += ":" + key.Namespace + "/" + key.Kind
	if key.Group != "" {
		p += "." + key.Group
	}
	return p
}

// anchorOf is an element id for param: "inv-" and a hash, since a page
// parameter holds characters an id should not.
func anchorOf(param string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(param))
	return "inv-" + strconv.FormatUint(h.Sum64(), 36)
}

// link is the page with param set to value (removed when empty), every
// other parameter kept: links that work without JavaScript.
func (b *inventoryBuilder) link(param, value string) string {
	q := url.Values{}
	for k, v := range b.query {
		q[k] = v
	}
	if value == "" {
		q.Del(param)
	} else {
		q.Set(param, value)
	}
	if len(q) == 0 {
		return b.path
	}
	return b.path + "?" + q.Encode()
}

// expand fills in, for each visible Kustomization or HelmRelease among
// entries, what it applied: read through the server's Store (filtered by
// the viewer's RBAC), at most inventoryMaxDepth deep, each once.
func (b *inventoryBuilder) expand(ctx context.Context, key bucketKey, entries []inventoryEntry, depth int) {
	ck, ok := kinds.ByGroupKind(key.GroupKind)
	if !ok || (ck.Kind != kinds.Kustomization().Kind && ck.Kind != kinds.HelmRelease().Kind) {
		return
	}
	for i := range entries {
		e := &entries[i]
		if !e.visible {
			continue
		}
		tk := treeKey(ck, key.Namespace, e.Name)
		if b.seen[tk] {
			e.Note = "its inventory is shown elsewhere on this page (it is applied more than once, or applies itself)"
			continue
		}
		if depth+1 >= inventoryMaxDepth {
			e.Note = "nested too deep to expand here: open its page for its inventory"
			continue
		}
		obj := ck.New()
		if err := b.s.store.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: e.Name}, obj); err != nil {
			continue // missing or hidden: its health already says so
		}
		refs, _ := inventoryOf(obj)
		b.seen[tk] = true
		e.Nested = b.build(ctx, tk, refs, depth+1)
	}
}

// withoutFlatInventory drops the catalogue's flat "Inventory" list (as
// `flux get` describes it) from sections: the tree shows the same entries,
// grouped, paged and with their health.
func withoutFlatInventory(sections []kinds.Section) []kinds.Section {
	out := sections[:0:0]
	for _, sec := range sections {
		if sec.Title != "Inventory" {
			out = append(out, sec)
		}
	}
	return out
}
