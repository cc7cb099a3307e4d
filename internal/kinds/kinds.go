// Package kinds is the one catalogue of the Flux kinds Driftless serves:
// for each kind its API group, version and kind, how the command line names
// it, how to make its typed object and list, and what every reader of it
// needs (revision, suspend, wide columns, describe sections, related
// objects). Every CLI verb loops over it, and the web UI reads the same
// entries, so adding a kind is one entry here rather than a row in each
// verb. It is plain Go over api/ and apimachinery: no cobra, no
// controller-runtime.
package kinds

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/api/meta"
)

// Object is an object of a catalogue kind: any Kubernetes object. The
// kinds a controller reconciles also implement meta.Object (conditions,
// observedGeneration, lastHandledReconcileAt; see Reconciled); static kinds
// (Alert, Provider) have no status at all, as in Flux, and their Kind
// derives their readiness instead (Kind.Derive).
type Object interface {
	metav1.Object
	runtime.Object
}

// Reconciled is obj's status accessor when a controller reconciles it
// (it implements meta.Object), and false for a static kind's object.
func Reconciled(obj Object) (meta.Object, bool) {
	r, ok := obj.(meta.Object)
	return r, ok
}

// Conditions is obj's status conditions, none for a static kind's object.
func Conditions(obj Object) []metav1.Condition {
	if c, ok := obj.(meta.Conditioned); ok {
		return c.GetConditions()
	}
	return nil
}

// List is a typed list of one kind, what a List or a Watch fills. It has
// the method set of controller-runtime's client.ObjectList, spelled with
// apimachinery's interfaces.
type List interface {
	metav1.ListInterface
	runtime.Object
}

// Kind is one entry of the catalogue.
type Kind struct {
	// GroupVersionKind is the kind's API type (source.toolkit.fluxcd.io/v1,
	// GitRepository); k.Kind is its kind.
	schema.GroupVersionKind
	// Resource is the plural resource name (gitrepositories).
	Resource string
	// Command is how the command line names the kind.
	Command Command

	// New returns an empty object of the kind; NewList an empty list, and
	// Items the objects of such a list.
	New     func() Object
	NewList func() List
	Items   func(List) []Object

	// Revision is what the last successful reconciliation produced (the
	// REVISION column), and RevisionVerb how to say so ("fetched"); both
	// unset for a kind without revisions (Alert, Provider, Receiver): read
	// it with RevisionOf.
	Revision     func(Object) string
	RevisionVerb string
	// Outcome, when set, is the line a command that waited for the object
	// prints once it is ready, in place of "<verb> revision <rev>" (an
	// ImageRepository's "scan fetched 3 tags"); "" prints none. Read it
	// with OutcomeOf.
	Outcome func(Object) string
	// RevisionColumn, when set, stands in the REVISION column's place in
	// `flux get` tables, as Flux's table of the kind has its own (LAST SCAN
	// of an ImageRepository); nil keeps REVISION.
	RevisionColumn *Column
	// SetSuspend sets spec.suspend and Suspended reads it; Suspended may
	// be nil for a kind whose objects implement meta.Object (see
	// Kind.IsSuspended), SetSuspend for a ReadOnly kind.
	SetSuspend func(Object, bool)
	Suspended  func(Object) bool
	// Static returns, for an object no controller reconciles (a
	// HelmRepository of type oci), the message it reads as Ready with, and
	// "" for any other; nil for kinds whose objects are all reconciled. A
	// static object has no status: nothing waits for it.
	Static func(Object) string

	// Derive is, for a static kind (Alert, Provider) that has no status at
	// all, its Ready condition derived from what its spec refers to, read
	// with get; nil for the kinds a controller reconciles. Every derived
	// Ready=True has been checked: nothing reads as Ready by default.
	Derive func(ctx context.Context, get Getter, obj Object) metav1.Condition
	// NotReconciled is true for a kind that no controller reconciles at all
	// (Alert, Provider): `flux reconcile` has no command for it, as Flux.
	NotReconciled bool
	// ReadOnly is true for a kind Flux's command line only reads (get,
	// export, describe, events, trace, tree): no create, delete, reconcile,
	// suspend or resume command, as for ExternalArtifact (its producer owns
	// it) and ArtifactGenerator (suspended by annotation, not spec.suspend).
	// SetSuspend is nil for such a kind.
	ReadOnly bool
	// LastReconciled is when the object was last reconciled as its
	// status.history records it (Flux §2.9: history[0].lastReconciled),
	// zero when it has none; nil for kinds without such a history.
	// Conditions change only on a transition, so only this says that a
	// healthy object is still being reconciled.
	LastReconciled func(Object) time.Time
	// ExtraActions are the kind's own actions, offered after Reconcile and
	// Reconcile with source (a HelmRelease's Force and Reset); see
	// Kind.Actions.
	ExtraActions []Action

	// Wide are the columns `-o wide` adds after MESSAGE.
	Wide []Column
	// Sections are what describe shows after the metadata: spec, status,
	// conditions and the kind's own (artifact, inventory), in order. age
	// writes how long ago a time was.
	Sections func(obj Object, age Age) []Section
	// Summary are the lines that stand for the object in a trace (URL and
	// Ref of a source, Target and Path of a Kustomization).
	Summary func(Object) []Pair

	// Source is the source the object reads from, which `--with-source`
	// reconciles first; nil for kinds without one. SourceKinds are the
	// kinds a user may name as its source when creating one.
	Source      func(Object) Ref
	SourceKinds []string
	// Related are the objects whose events belong with this one's (a
	// Kustomization's source); nil for kinds with none.
	Related func(Object) []Ref
	// SecretRef is the name of the Secret in spec.secretRef ("" for none),
	// which `export --with-credentials` writes too; nil for kinds without.
	SecretRef func(Object) string

	// Examples are command-line examples by verb ("reconcile"); a verb
	// without one writes its own.
	Examples map[string]string
}

// RevisionOf is k.Revision of obj, "" for a kind without revisions.
func (k Kind) RevisionOf(obj Object) string {
	if k.Revision == nil {
		return ""
	}
	return k.Revision(obj)
}

// OutcomeOf is the line a command prints once obj is ready: k.Outcome, or
// "<verb> revision <rev>", "" when there is nothing to say.
func (k Kind) OutcomeOf(obj Object) string {
	if k.Outcome != nil {
		return k.Outcome(obj)
	}
	if rev := k.RevisionOf(obj); rev != "" {
		return k.RevisionVerb + " revision " + rev
	}
	return ""
}

// IsSuspended reads spec.suspend of obj.
func (k Kind) IsSuspended(obj Object) bool {
	if k.Suspended != nil {
		return k.Suspended(obj)
	}
	if r, ok := Reconciled(obj); ok {
		return r.IsSuspended()
	}
	return false
}

// Getter reads the object key names into obj (an Alert's Provider, a
// Secret), as a client's Get; a missing one is a NotFound error.
type Getter func(ctx context.Context, key types.NamespacedName, obj Object) error

// Command is how the command line names a kind: `flux <verb> source git`,
// `flux get sources git`, `flux <verb> kustomization` (or ks).
type Command struct {
	// Group is the command the kind sits under ("source"), "" for none;
	// `flux get` spells it plural ("sources").
	Group string
	// Name is the singular name ("git", "kustomization") and Plural the
	// one `flux get` uses ("git", "kustomizations").
	Name, Plural string
	// Aliases are the short names every verb takes ("ks").
	Aliases []string
	// Noun names one object of the kind in a sentence ("GitRepository
	// source", "Kustomization"), Nouns several.
	Noun, Nouns string
}

// Path is the command path after the verb: "source git", "kustomization".
func (c Command) Path() string { return joinWords(c.Group, c.Name) }

// GetPath is the command path after `flux get`: "sources git", "kustomizations".
func (c Command) GetPath() string {
	if c.Group == "" {
		return c.Plural
	}
	return joinWords(c.Group+"s", c.Plural)
}

func joinWords(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

// Column is one `-o wide` column: its header and its value for an object.
type Column struct {
	Header string
	Value  func(Object) string
}

// Ref names one object of a kind: what a relation points to.
type Ref struct {
	APIVersion, Kind, Namespace, Name string
}

// GroupKind is the ref's API group and kind.
func (r Ref) GroupKind() schema.GroupKind {
	gv, _ := schema.ParseGroupVersion(r.APIVersion)
	return schema.GroupKind{Group: gv.Group, Kind: r.Kind}
}

// All is the catalogue, in the order the command line lists kinds: sources
// first (in the order of Flux's `get sources all`: OCIRepository,
// GitRepository, Bucket, HelmRepository, HelmChart, ExternalArtifact), the
// ArtifactGenerator that writes ExternalArtifacts, then what reads them, then
// the notification kinds in the order of Flux's `get all`: alert
// providers, alerts, receivers; then the image kinds in the order of
// Flux's `get images all`: repositories, policies, update automations.
func All() []Kind { return slices.Clone(catalogue()) }

// catalogue is every kind, made once: the web UI asks for a kind of every
// object it shows, many times a second while pages are live.
var catalogue = sync.OnceValue(func() []Kind {
	return []Kind{OCIRepository(), GitRepository(), Bucket(), HelmRepository(), HelmChart(), ExternalArtifact(), ArtifactGenerator(),
		Kustomization(), HelmRelease(),
		Provider(), Alert(), Receiver(), ImageRepository(), ImagePolicy(), ImageUpdateAutomation()}
})

// byType indexes the catalogue by the Go type of its objects.
var byType = sync.OnceValue(func() map[reflect.Type]int {
	m := map[reflect.Type]int{}
	for i, k := range catalogue() {
		m[reflect.TypeOf(k.New())] = i
	}
	return m
})

// StaticMessage is the Ready message of obj when it is a static object of
// a kind in the catalogue (see Kind.Static), "" otherwise.
func StaticMessage(obj Object) string {
	if k, ok := Of(obj); ok && k.Static != nil {
		return k.Static(obj)
	}
	return ""
}

// Of is the entry of obj's Go type (*sourcev1.GitRepository: GitRepository).
func Of(obj Object) (Kind, bool) {
	i, ok := byType()[reflect.TypeOf(obj)]
	if !ok {
		return Kind{}, false
	}
	return catalogue()[i], true
}

// ByKind is the entry of an API kind (GitRepository), matched exactly.
func ByKind(kind string) (Kind, bool) {
	for _, k := range catalogue() {
		if k.Kind == kind {
			return k, true
		}
	}
	return Kind{}, false
}

// ByGroupKind is the entry of an API group and kind.
func ByGroupKind(gk schema.GroupKind) (Kind, bool) {
	for _, k := range catalogue() {
		if k.GroupKind() == gk {
			return k, true
		}
	}
	return Kind{}, false
}

// Lookup is the entry a user means by name, case-insensitively: the kind
// (gitrepository), its resource (gitrepositories) or an alias (ks).
func Lookup(name string) (Kind, bool) {
	name = strings.ToLower(name)
	for _, k := range All() {
		if name == strings.ToLower(k.Kind) || name == k.Resource {
			return k, true
		}
		for _, a := range k.Command.Aliases {
			if name == a {
				return k, true
			}
		}
	}
	return Kind{}, false
}

// pointers returns a pointer to each item of a typed list, as the objects
// the catalogue hands out.
func pointers[T any, P interface {
	*T
	Object
}](items []T) []Object {
	out := make([]Object, len(items))
	for i := range items {
		out[i] = P(&items[i])
	}
	return out
}
