package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web/eventsource"
)

// fluxGroupSuffix is what the API groups of Flux's toolkit kinds end with;
// source-watcher's ArtifactGenerator is in source.extensions.fluxcd.io
// (see isFluxGroup).
const fluxGroupSuffix = ".toolkit.fluxcd.io"

// isFluxGroup tells whether group is the API group of a Flux kind: a
// toolkit group, or one of a kind in the catalogue (source.extensions).
func isFluxGroup(group string) bool {
	if strings.HasSuffix(group, fluxGroupSuffix) {
		return true
	}
	for _, k := range kinds.All() {
		if k.Group == group {
			return true
		}
	}
	return false
}

// eventsOptions are the flags of `flux events`, and how it writes ages
// (pinned by tests).
type eventsOptions struct {
	forObject     string
	allNamespaces bool
	types         []string
	watch         bool
	age           func(time.Time) string
}

func newEventsCommand(f *Factory) *cobra.Command {
	return newEventsCommandWith(f, &eventsOptions{age: ageSince(time.Now)})
}

func newEventsCommandWith(f *Factory, o *eventsOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Show the Kubernetes events of Flux resources",
		Long: "Events prints the core/v1 Events of Flux resources, oldest first, as a table (LAST SEEN, TYPE,\n" +
			"REASON, OBJECT, MESSAGE). --for Kustomization/NAME also shows the events of its source.",
		Example: "  flux events -n flux-system\n  flux events --for Kustomization/apps --types Warning\n  flux events -A -w",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEvents(cmd.Context(), f, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.forObject, "for", "", "show only the events of this object (and of its source), as Kind/name")
	fs.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "show the events of every namespace")
	fs.StringSliceVar(&o.types, "types", nil, "show only events of these types: Normal, Warning (comma-separated)")
	fs.BoolVarP(&o.watch, "watch", "w", false, "after listing, print new events until interrupted")
	return cmd
}

// eventFilter decides which events `flux events` shows.
type eventFilter struct {
	namespace string // "" with -A
	types     map[string]bool
	// objects, when set (--for), are the only involved objects shown,
	// keyed by eventObjectKey.
	objects map[string]bool
}

func (e *eventFilter) matches(ev *corev1.Event) bool {
	if len(e.types) > 0 && !e.types[strings.ToLower(ev.Type)] {
		return false
	}
	ref := ev.InvolvedObject
	if e.objects != nil {
		return e.objects[eventObjectKey(ref.Kind, ref.Namespace, ref.Name)]
	}
	return isFluxObject(ref)
}

func eventObjectKey(kind, namespace, name string) string {
	return strings.ToLower(kind) + "/" + namespace + "/" + name
}

// isFluxObject tells whether an event is about an object of a Flux kind.
func isFluxObject(ref corev1.ObjectReference) bool {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err == nil && isFluxGroup(gv.Group) {
		return true
	}
	_, known := kinds.ByKind(ref.Kind)
	return ref.APIVersion == "" && known
}

func runEvents(ctx context.Context, f *Factory, o *eventsOptions) error {
	filter := &eventFilter{types: map[string]bool{}}
	for _, t := range o.types {
		switch lt := strings.ToLower(strings.TrimSpace(t)); lt {
		case "normal", "warning":
			filter.types[lt] = true
		default:
			return fmt.Errorf("unknown event type %q in --types: use Normal, Warning or both (Normal,Warning)", t)
		}
	}
	if o.forObject != "" && o.allNamespaces {
		return fmt.Errorf("--for names one object, which cannot be looked up across all namespaces: drop -A or --for")
	}
	c, err := f.Client()
	if err != nil {
		return err
	}
	if !o.allNamespaces {
		if filter.namespace, err = f.Namespace(); err != nil {
			return err
		}
	}
	if o.forObject != "" {
		if filter.objects, err = relatedObjects(ctx, c, o.forObject, filter.namespace); err != nil {
			return err
		}
	}
	list := &corev1.EventList{}
	if err := c.List(ctx, list, client.InNamespace(filter.namespace)); err != nil {
		return fmt.Errorf("listing events: %w", err)
	}
	items := list.Items
	// A source in another namespace has its events there.
	for _, ns := range otherNamespaces(filter) {
		more := &corev1.EventList{}
		if err := c.List(ctx, more, client.InNamespace(ns)); err != nil {
			return fmt.Errorf("listing the events of namespace %s: %w", ns, err)
		}
		items = append(items, more.Items...)
	}
	var events []corev1.Event
	for i := range items {
		if filter.matches(&items[i]) {
			events = append(events, items[i])
		}
	}
	sortEvents(events)
	p := &eventPrinter{out: f.Out, age: o.age, namespaced: filter.namespace != ""}
	if len(events) == 0 && !o.watch {
		fmt.Fprintf(f.Err, "no events found in %s\n", (&getter{namespace: filter.namespace}).where())
		return nil
	}
	if err := p.print(events, true); err != nil {
		return err
	}
	if !o.watch {
		return nil
	}
	return watchEvents(ctx, c, filter, list.ResourceVersion, p)
}

// relatedObjects parses --for Kind/name and returns the objects whose
// events to show: the object and those the catalogue relates to it (a
// Kustomization's source), as Flux.
func relatedObjects(ctx context.Context, c client.Client, forObject, ns string) (map[string]bool, error) {
	kind, name, ok := strings.Cut(forObject, "/")
	if !ok || kind == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("invalid --for %q: use Kind/name, for example Kustomization/apps", forObject)
	}
	objects := map[string]bool{}
	k, known := kinds.Lookup(kind)
	if !known {
		// Other kinds (Flux's or not) have no related objects we know of.
		objects[eventObjectKey(kind, ns, name)] = true
		return objects, nil
	}
	if k.Related != nil {
		obj := k.New()
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
			return nil, notFoundError(err, k.Kind, name, ns)
		}
		for _, r := range k.Related(obj) {
			objects[eventObjectKey(r.Kind, r.Namespace, r.Name)] = true
		}
	}
	objects[eventObjectKey(k.Kind, ns, name)] = true
	return objects, nil
}

// otherNamespaces are the namespaces of the --for objects besides the one
// the command lists.
func otherNamespaces(filter *eventFilter) []string {
	seen := map[string]bool{filter.namespace: true}
	var out []string
	for key := range filter.objects {
		parts := strings.SplitN(key, "/", 3)
		if !seen[parts[1]] {
			seen[parts[1]] = true
			out = append(out, parts[1])
		}
	}
	sort.Strings(out)
	return out
}

// sortEvents orders events oldest first: by time, then (times have a
// one-second grain) by resource version, as the web UI's object page does
// newest first.
func sortEvents(events []corev1.Event) { eventsource.SortOldestFirst(events) }

// eventPrinter writes events as kubectl's event tables do.
type eventPrinter struct {
	out        io.Writer
	age        func(time.Time) string
	namespaced bool
}

func (p *eventPrinter) print(events []corev1.Event, header bool) error {
	tw := newTabWriter(p.out)
	if header {
		h := []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}
		if !p.namespaced {
			h = append([]string{"NAMESPACE"}, h...)
		}
		writeRow(tw, h...)
	}
	for _, e := range events {
		r := []string{p.age(eventTime(e)), e.Type, e.Reason, e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name, strings.TrimSpace(e.Message)}
		if !p.namespaced {
			r = append([]string{e.Namespace}, r...)
		}
		writeRow(tw, r...)
	}
	return tw.Flush()
}

// watchEvents prints the events that match filter as they are recorded or
// repeated, until ctx ends, which is not an error.
func watchEvents(ctx context.Context, c client.WithWatch, filter *eventFilter, rv string, p *eventPrinter) error {
	ns := filter.namespace
	if len(otherNamespaces(filter)) > 0 {
		ns = "" // --for objects in several namespaces; filter keeps theirs
	}
	return followWatch(ctx, c, &corev1.EventList{}, "events", func(ev watch.Event) error {
		e, isEvent := ev.Object.(*corev1.Event)
		if !isEvent || (ev.Type != watch.Added && ev.Type != watch.Modified) || !filter.matches(e) {
			return nil
		}
		return p.print([]corev1.Event{*e}, false)
	}, client.InNamespace(ns), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
}
