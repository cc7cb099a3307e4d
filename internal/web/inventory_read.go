package web

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftless/driftless/internal/engine/health"
	"github.com/driftless/driftless/internal/kinds"
)

// healthBadges are how the kstatus states read: icon and word, the class
// only adding colour.
var healthBadges = map[health.State]badge{
	health.Current:     {"✔", "Current", "ok"},
	health.InProgress:  {"↻", "InProgress", "progress"},
	health.Failed:      {"✖", "Failed", "fail"},
	health.Terminating: {"⌫", "Terminating", "progress"},
	health.NotFound:    {"∅", "NotFound", "fail"},
	health.Unknown:     {"?", "Unknown", "unknown"},
}

// noAccessBadge marks an entry the viewer may not get: its kind and name
// are in the status they read, but nothing the object holds.
var noAccessBadge = badge{"⊘", "no access", "unknown"}

// readEntries are the entries names of one kind in one namespace, each
// with its health, read with as few calls as the count allows: one List
// past inventoryListFrom, else one Get each. With an Access (in the
// cluster, where the reader is the controller) only the objects the viewer
// may get are read, and the others show "no access"; for `flux ui` the API
// server's Forbidden does the same.
func (s *server) readEntries(ctx context.Context, key bucketKey, version string, names []string) []inventoryEntry {
	entries := make([]inventoryEntry, len(names))
	for i, n := range names {
		entries[i].Name = n
	}
	ok, err := s.objects.KindFor(key.GroupKind, version)
	if err != nil {
		why := "the cluster does not serve this kind (is its CRD installed?)"
		if !apimeta.IsNoMatchError(err) {
			s.log.Error("map an inventory kind", "group", key.Group, "kind", key.Kind, "error", err)
			why = "cannot tell which resource this kind is: asking the API server failed (the server's log says why)"
		}
		for i := range entries {
			entries[i].setHealth(health.Result{Status: health.Unknown, Message: why})
		}
		return entries
	}
	ns := key.Namespace
	if !ok.Namespaced {
		ns = ""
	}
	readable := s.allowedEntries(ctx, ok, ns, entries)
	if len(readable) == 0 {
		return entries
	}
	var listed map[string]*unstructured.Unstructured
	if len(readable) > inventoryListFrom {
		listed = s.listByName(ctx, ok, ns)
	}
	ck, inCatalogue := kinds.ByGroupKind(key.GroupKind)
	for _, i := range readable {
		e := &entries[i]
		var obj *unstructured.Unstructured
		if listed != nil {
			obj = listed[e.Name]
		} else {
			got, err := s.objects.Get(ctx, ok, ns, e.Name)
			switch {
			case apierrors.IsNotFound(err):
			case apierrors.IsForbidden(err):
				e.Badge = noAccessBadge
				continue
			case err != nil:
				s.log.Error("read an inventory entry", "kind", key.Kind, "namespace", ns, "name", e.Name, "error", err)
				e.setHealth(health.Result{Status: health.Unknown, Message: "cannot read it: " + err.Error()})
				e.visible = true
				continue
			default:
				obj = got
			}
		}
		e.visible = true
		e.setHealth(health.Status(obj))
		if inCatalogue {
			e.Link = objectPath(ck, key.Namespace, e.Name)
		}
	}
	return entries
}

// setHealth shows r on e.
func (e *inventoryEntry) setHealth(r health.Result) {
	e.Badge = healthBadges[r.Status]
	if e.Badge.Word == "" {
		e.Badge = badge{"?", string(r.Status), "unknown"}
	}
	e.Message = r.Message
	e.Current = r.Status == health.Current
}

// listByName is every object of kind k in namespace, by name; nil when the
// List fails (Forbidden for a `flux ui` user who may only get), so that
// the caller reads one by one instead.
func (s *server) listByName(ctx context.Context, k ObjectKind, namespace string) map[string]*unstructured.Unstructured {
	items, err := s.objects.List(ctx, k, namespace)
	if err != nil {
		if !apierrors.IsForbidden(err) {
			s.log.Error("list for the inventory", "kind", k.Kind, "namespace", namespace, "error", err)
		}
		return nil
	}
	byName := make(map[string]*unstructured.Unstructured, len(items))
	for i := range items {
		byName[items[i].GetName()] = &items[i]
	}
	return byName
}

// allowedEntries are the indexes of the entries the viewer in ctx may
// get; the others are marked "no access". Without an Access every entry
// is allowed (the reader acts as the viewer). One list question answers a
// whole kind in a namespace; only when it is refused is each name asked.
func (s *server) allowedEntries(ctx context.Context, k ObjectKind, namespace string, entries []inventoryEntry) []int {
	all := make([]int, 0, len(entries))
	for i := range entries {
		all = append(all, i)
	}
	if s.access == nil {
		return all
	}
	deny := func(i int) { entries[i].Badge = noAccessBadge }
	u, ok := viewerFrom(ctx)
	if !ok || u.Name == "" {
		for i := range entries {
			deny(i)
		}
		return nil
	}
	if yes, err := s.access.Allowed(ctx, u, "list", k.Group, k.Resource, namespace, ""); err == nil && yes {
		return all
	}
	var allowed []int
	for i := range entries {
		yes, err := s.access.Allowed(ctx, u, "get", k.Group, k.Resource, namespace, entries[i].Name)
		if err != nil {
			s.log.Error("check access for an inventory entry", "kind", k.Kind, "namespace", namespace, "error", err)
		}
		if err != nil || !yes {
			deny(i)
			continue
		}
		allowed = append(allowed, i)
	}
	return allowed
}
