package helmdrift

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftless/driftless/internal/engine/apply"
)

// State is what Detect found for one object; its text is the word of
// Flux's event.
type State string

// The states of a report's entries.
const (
	// Unchanged: the object is as the release made it.
	Unchanged State = State(apply.InSync)
	// Drifted: fields of the object changed; Entry.Changes names them.
	Drifted State = State(apply.Drifted)
	// Missing: the object was deleted from the cluster.
	Missing State = State(apply.Missing)
	// Excluded: the object opts out with OptOutKey and was not checked.
	Excluded State = State(apply.Excluded)
)

// Change is one drifted field: its JSON Pointer and whether a correction
// adds, replaces or removes it. It has no value, by design.
type Change struct {
	Op   string // add, replace or remove
	Path string
}

// Entry is the result of Detect for one object.
type Entry struct {
	Ref     apply.ObjectRef
	State   State
	Changes []Change // sorted by path; for Drifted only

	object *unstructured.Unstructured // the release's object, for Correct
}

// Report is the result of Detect: one entry per object compared.
type Report struct {
	// Release is the release's full name, <namespace>/<name>.v<version>.
	Release string
	Entries []Entry

	opts Options // the options of Detect, which Correct uses too
}

// Drifted tells whether an object drifted or is missing: the release
// needs a correction (or a warning).
func (r *Report) Drifted() bool {
	return len(r.Corrections()) > 0
}

// Corrections returns the entries Correct re-applies: the drifted and the
// missing objects.
func (r *Report) Corrections() []Entry {
	var out []Entry
	if r == nil {
		return nil
	}
	for _, e := range r.Entries {
		if e.State == Drifted || e.State == Missing {
			out = append(out, e)
		}
	}
	return out
}

// maxPaths bounds the paths named per object, so that an event stays
// short when a whole object was rewritten.
const maxPaths = 10

// NoDriftMessage is the message of a release in sync, as Flux's Drifted
// condition says it.
const NoDriftMessage = "No drift detected against the cluster state."

// String returns the text of Flux's DriftDetected event: a header naming
// the release, then one line per drifted, missing or excluded object,
//
//	Deployment/apps/web changed (0 additions, 1 changes, 0 removals): /spec/replicas
//	ConfigMap/apps/settings removed
//	Secret/apps/token excluded
//
// naming the changed fields (at most maxPaths) and never their values.
// Without drift it is NoDriftMessage.
func (r *Report) String() string {
	if !r.Drifted() {
		return NoDriftMessage
	}
	return fmt.Sprintf("Cluster state of release %s has drifted from the desired state:\n%s", r.name(), r.Summary())
}

// Summary returns the lines of String without its header.
func (r *Report) Summary() string {
	var b strings.Builder
	for _, e := range r.Entries {
		switch e.State {
		case Missing, Excluded:
			fmt.Fprintf(&b, "%s %s\n", e.Ref, e.State)
		case Drifted:
			var add, change, remove int
			paths := make([]string, 0, min(len(e.Changes), maxPaths))
			for i, c := range e.Changes {
				switch c.Op {
				case "add":
					add++
				case "remove":
					remove++
				default:
					change++
				}
				if i < maxPaths {
					paths = append(paths, c.Path)
				}
			}
			list := strings.Join(paths, ", ")
			if more := len(e.Changes) - len(paths); more > 0 {
				list += fmt.Sprintf(" and %d more", more)
			}
			fmt.Fprintf(&b, "%s changed (%d additions, %d changes, %d removals): %s\n", e.Ref, add, change, remove, list)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// name is the release's name for messages.
func (r *Report) name() string {
	if r.Release != "" {
		return r.Release
	}
	if r.opts.Namespace != "" {
		return r.opts.Namespace + "/<unnamed>"
	}
	return "<unnamed>"
}
