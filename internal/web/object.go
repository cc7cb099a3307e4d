package web

import (
	"context"
	"net/http"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/driftless/driftless/internal/kinds"
)

type objectData struct {
	View view
	// Reconciled is false for a kind no controller reconciles, whose
	// objects have no status to compare generations with.
	Reconciled                     bool
	Generation, ObservedGeneration int64
	// SpecNotSeen is set while the controller has not yet observed the
	// object's current generation.
	SpecNotSeen bool
	LastHandled string
	Sections    []kinds.Section
	Conditions  []conditionRow
	YAML        string

	// GraphLink is the graph drawn around the object.
	GraphLink string
	// Source, DependsOn and GitRepo are the relation sections, nil for a
	// kind without them.
	Source    *sourceData
	DependsOn *chainData
	GitRepo   *gitRepoData
	// IsSource is set for a kind other objects read from; Consumers are
	// those that read this one.
	IsSource  bool
	Consumers []consumer
	Failed    []string
	// Events is the Events section (events.go), nil without an
	// EventSource; only the full page reads it, the stream sends its own.
	Events *eventsData
	// Deleted is set when a live stream saw the object go.
	Deleted bool
	// Actions are the viewer's buttons and the feedback on the request
	// the page follows.
	Actions actionsData
	// Inventory is the tree of what a Kustomization or HelmRelease
	// applied (inventory.go), nil for other kinds or without
	// Options.Objects.
	Inventory *inventoryData
}

type conditionRow struct{ Type, Status, Reason, Message, Age, When string }

func (s *server) object(w http.ResponseWriter, r *http.Request) {
	k, ok := kinds.ByGroupKind(schema.GroupKind{Group: r.PathValue("group"), Kind: r.PathValue("kind")})
	if !ok {
		s.notFound(w, r)
		return
	}
	obj := k.New()
	key := types.NamespacedName{Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
	if err := s.store.Get(r.Context(), key, obj); err != nil {
		// Forbidden reads the same as missing: the page must not confirm
		// that an object the viewer may not see exists.
		if !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) {
			s.log.Error("get", "kind", k.Kind, "key", key.String(), "error", err)
		}
		s.notFound(w, r)
		return
	}
	d := s.objectData(r.Context(), k, obj)
	d.Actions = s.actions(r.Context(), k, obj, r.URL.Query())
	if d.Inventory = s.inventoryTree(r.Context(), r.URL.EscapedPath(), r.URL.Query(), k, obj); d.Inventory != nil {
		d.Sections = withoutFlatInventory(d.Sections)
	}
	d.Events = s.eventsSection(r.Context(), k, obj)
	title := k.Kind + " " + key.Namespace + "/" + key.Name
	live := s.live(r)
	live.Events = withQuery(live.Events, queryRendered, obj.GetResourceVersion())
	s.render(w, r, http.StatusOK, "object", page{Title: title, Body: d, Live: live})
}

// objectData is what the object page shows of obj, of kind k; the live
// stream renders its fragments from the same data.
func (s *server) objectData(ctx context.Context, k kinds.Kind, obj kinds.Object) objectData {
	now := s.now()
	d := objectData{View: newView(ctx, s.store.Get, k, obj, now), Generation: obj.GetGeneration()}
	if rec, ok := kinds.Reconciled(obj); ok && !k.NotReconciled {
		d.Reconciled = true
		d.ObservedGeneration = rec.GetObservedGeneration()
		d.SpecNotSeen = d.ObservedGeneration < d.Generation
		d.LastHandled = rec.GetLastHandledReconcileRequest()
	}
	ageOf := func(t time.Time) string { return age(now, t) }
	for _, sec := range kinds.Describe(k, obj, ageOf) {
		// The conditions get their own table below, with whole messages.
		if sec.Title == "Conditions" {
			continue
		}
		d.Sections = append(d.Sections, sec)
	}
	for _, c := range kinds.Conditions(obj) {
		row := conditionRow{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Message: c.Message}
		if !c.LastTransitionTime.IsZero() {
			row.Age = age(now, c.LastTransitionTime.Time)
			row.When = c.LastTransitionTime.UTC().Format(time.RFC3339)
		}
		d.Conditions = append(d.Conditions, row)
	}
	d.YAML = specYAML(k, obj)
	d.GraphLink = graphAround(k, obj)
	d.Source = s.sourceSection(ctx, k, obj, now)
	d.DependsOn = s.dependsOnSection(ctx, k, obj)
	if d.GitRepo = gitRepoSection(k, obj, now); d.GitRepo != nil {
		// The Repository section shows the artifact with its size in
		// words and its SourceVerified; describe's copy would say it twice.
		d.Sections = slices.DeleteFunc(d.Sections, func(sec kinds.Section) bool { return sec.Title == "Artifact" })
	}
	if d.IsSource = isSource(k); d.IsSource {
		d.Consumers, d.Failed = s.consumers(ctx, k, obj, now)
	}
	return d
}

// specYAML is obj as YAML without its status and managed fields: what the
// user wrote, as `kubectl get -o yaml` would show it.
func specYAML(k kinds.Kind, obj kinds.Object) string {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return "cannot show the object: " + err.Error()
	}
	delete(u, "status")
	if md, ok := u["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
	}
	u["apiVersion"] = k.GroupVersion().String()
	u["kind"] = k.Kind
	out, err := yaml.Marshal(u)
	if err != nil {
		return "cannot show the object: " + err.Error()
	}
	return string(out)
}
