package web

import (
	"context"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/kinds"
)

// state is an object's status as the UI shows it: always an icon and a
// word, the class only adding colour. The order of the constants is the
// order of the overview table: failures first.
type state int

const (
	stateStalled state = iota
	stateNotReady
	stateNoStatus
	stateUnknown
	stateReconciling
	stateSuspended
	stateReady
)

// badge is how a state reads: icon, word and CSS class.
type badge struct{ Icon, Word, Class string }

var badges = map[state]badge{
	stateStalled:     {"✖", "Stalled", "fail"},
	stateNotReady:    {"✖", "Not ready", "fail"},
	stateNoStatus:    {"…", "No status", "unknown"},
	stateUnknown:     {"?", "Unknown", "unknown"},
	stateReconciling: {"↻", "Reconciling", "progress"},
	stateSuspended:   {"‖", "Suspended", "suspended"},
	stateReady:       {"✔", "Ready", "ok"},
}

// notReconciledNote is what an object of a kind no Driftless controller
// reconciles says next to its (derived) readiness.
const notReconciledNote = "not reconciled: no controller for this kind"

// view is one object as every page shows it: its kind, its Ready condition
// (written by a controller, derived for a static kind, or none), and what
// follows from them.
type view struct {
	Kind      kinds.Kind
	Obj       kinds.Object
	Namespace string
	Name      string
	Link      string
	State     state
	Badge     badge
	// Ready is the Ready condition, nil before a controller wrote one.
	Ready *metav1.Condition
	// Message is the Ready message, FirstLine its first line (with "…"
	// when it has more).
	Message, FirstLine string
	Revision           string
	Suspended          bool
	// Note is notReconciledNote for a kind no Driftless controller
	// reconciles, "" otherwise.
	Note string
	// LastReconcile is the newest time the status records a reconcile
	// at (zero when none); Age and When write it.
	LastReconcile time.Time
	Age, When     string
	// Attention are the reasons the object needs attention, none when
	// it does not.
	Attention []string

	// id is ID(), key changeKey's key of the object: worked out once,
	// as every stream reads them at each of its renders.
	id, key string
}

// newView reads obj, of kind k, at time now; get reads what a static
// kind's readiness depends on.
func newView(ctx context.Context, get kinds.Getter, k kinds.Kind, obj kinds.Object, now time.Time) view {
	v := view{
		Kind: k, Obj: obj, Namespace: obj.GetNamespace(), Name: obj.GetName(),
		Link:      objectPath(k, obj.GetNamespace(), obj.GetName()),
		Revision:  k.RevisionOf(obj),
		Suspended: k.IsSuspended(obj),
	}
	if k.NotReconciled {
		v.Note = notReconciledNote
	}
	v.Ready = readyCondition(ctx, get, k, obj)
	if v.Ready != nil {
		v.Message = v.Ready.Message
	} else {
		v.Message = "waiting to be reconciled"
	}
	v.FirstLine = firstLine(v.Message)
	v.State = classify(k, obj, v.Ready, v.Suspended)
	v.Badge = badges[v.State]
	v.LastReconcile = lastReconcile(k, obj)
	if !v.LastReconcile.IsZero() {
		v.Age = age(now, v.LastReconcile)
		v.When = v.LastReconcile.UTC().Format(time.RFC3339)
	}
	v.Attention = attention(k, obj, v, now)
	v.id = rowElementID(k, v.Namespace, v.Name)
	v.key = objectKey(k, v.Namespace, v.Name)
	return v
}

// readyCondition is the Ready condition of obj as `flux get` reads it:
// derived for a static kind, True with its message for a static object,
// otherwise the controller's, nil before it wrote one.
func readyCondition(ctx context.Context, get kinds.Getter, k kinds.Kind, obj kinds.Object) *metav1.Condition {
	if k.Derive != nil {
		c := k.Derive(ctx, get, obj)
		return &c
	}
	if msg := kinds.StaticMessage(obj); msg != "" {
		return &metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Message: msg}
	}
	return apimeta.FindStatusCondition(kinds.Conditions(obj), meta.ReadyCondition)
}

// classify picks the one state the object is shown in. Suspension wins
// over the rest (a suspended object's Ready is old news), then kstatus'
// Stalled, Ready=False, Reconciling.
func classify(k kinds.Kind, obj kinds.Object, ready *metav1.Condition, suspended bool) state {
	conds := kinds.Conditions(obj)
	switch {
	case suspended:
		return stateSuspended
	case apimeta.IsStatusConditionTrue(conds, meta.StalledCondition):
		return stateStalled
	case ready == nil:
		return stateNoStatus
	case ready.Status == metav1.ConditionFalse:
		return stateNotReady
	case apimeta.IsStatusConditionTrue(conds, meta.ReconcilingCondition):
		return stateReconciling
	case ready.Status == metav1.ConditionTrue:
		return stateReady
	}
	return stateUnknown
}

// attention is why the object needs a look: the list, in order.
func attention(k kinds.Kind, obj kinds.Object, v view, now time.Time) []string {
	var out []string
	if apimeta.IsStatusConditionTrue(kinds.Conditions(obj), meta.StalledCondition) {
		out = append(out, "stalled")
	}
	if v.Ready != nil && v.Ready.Status == metav1.ConditionFalse {
		out = append(out, "not ready")
	}
	if v.Suspended {
		out = append(out, "suspended")
	}
	if v.Ready == nil {
		out = append(out, "no status")
	}
	if r, ok := kinds.Reconciled(obj); ok && !v.Suspended {
		interval := r.GetRequeueAfter()
		if last := historyReconcile(k, obj); interval > 0 && !last.IsZero() && now.Sub(last) > 2*interval {
			out = append(out, "no reconcile for "+age(now, last)+" (interval "+interval.String()+")")
		}
	}
	return out
}

// lastReconcile is the newest time obj's status records: the last
// reconcile in status.history, else the newest condition transition.
func lastReconcile(k kinds.Kind, obj kinds.Object) time.Time {
	last := historyReconcile(k, obj)
	for _, c := range kinds.Conditions(obj) {
		if c.LastTransitionTime.After(last) {
			last = c.LastTransitionTime.Time
		}
	}
	return last
}

// historyReconcile is when the catalogue says obj was last reconciled
// (Kind.LastReconciled: status.history[0].lastReconciled, Flux §2.9),
// zero for a kind without a history. Only this time says that a reconcile
// ran: conditions change only on a transition, so a healthy object's
// condition times are old. The stale check therefore applies to the kinds
// with a history. Typed, not read through an unstructured copy: the
// overview asks it of every object at every live render.
func historyReconcile(k kinds.Kind, obj kinds.Object) time.Time {
	if k.LastReconciled == nil {
		return time.Time{}
	}
	return k.LastReconciled(obj)
}

// firstLine is the first line of s, with "…" when there are more.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i]) + " …"
	}
	return s
}

// age writes how long before now t was, as kubectl does (5m, 2d3h).
func age(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return duration.HumanDuration(now.Sub(t))
}
