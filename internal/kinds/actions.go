package kinds

import (
	"encoding/json"
	"time"

	"github.com/driftless/driftless/api/meta"
)

// Action is something a person may ask of an object through the API
// server: the web UI's buttons, named and explained in the command line's
// words. Every action is one merge patch (two for ReconcileWithSource: the
// source's first), sent as the person asking.
type Action struct {
	// Name is the action's URL segment: reconcile, reconcile-with-source,
	// suspend, resume, force, reset.
	Name string
	// Label is the button's text, Help the line that says what it does.
	Label, Help string
	// Annotations are the request annotations the patch sets to the
	// request token, besides reconcile.fluxcd.io/requestedAt (a
	// HelmRelease's forceAt, resetAt).
	Annotations []string
	// Requests is set when the action asks the controller for a
	// reconciliation, which the object's lastHandledReconcileAt reports
	// handled.
	Requests bool
}

// The actions every kind may have; a kind lists its own in ExtraActions.
var (
	ActionReconcile = Action{Name: "reconcile", Label: "Reconcile", Requests: true,
		Help: "Ask the controller to reconcile now (flux reconcile)."}
	ActionReconcileWithSource = Action{Name: "reconcile-with-source", Label: "Reconcile with source", Requests: true,
		Help: "Reconcile the source first, then this object (flux reconcile --with-source)."}
	ActionSuspend = Action{Name: "suspend", Label: "Suspend",
		Help: "Stop reconciling until resumed (flux suspend)."}
	ActionResume = Action{Name: "resume", Label: "Resume", Requests: true,
		Help: "Reconcile again, starting now (flux resume)."}
)

// Actions are the actions the catalogue offers for obj, in the order a
// page shows them. A suspended object offers Resume, never Reconcile: a
// request to a suspended object would be ignored without a word, so its
// Resume is labelled "Resume and reconcile". An object no controller
// reconciles (an Alert, a HelmRepository of type oci) offers only
// Suspend or Resume, as the command line does.
func (k Kind) Actions(obj Object) []Action {
	var out []Action
	static := k.NotReconciled || (k.Static != nil && k.Static(obj) != "")
	suspended := k.IsSuspended(obj)
	switch {
	case suspended && k.SetSuspend != nil:
		resume := ActionResume
		if !static {
			resume.Label = "Resume and reconcile"
			resume.Help = "This object is suspended, so a reconcile request would be ignored: resume it, which also reconciles (flux resume)."
		}
		return append(out, resume)
	case suspended:
		return nil
	}
	if !static {
		out = append(out, ActionReconcile)
		if k.Source != nil {
			out = append(out, ActionReconcileWithSource)
		}
		out = append(out, k.ExtraActions...)
	}
	if k.SetSuspend != nil {
		out = append(out, ActionSuspend)
	}
	return out
}

// ActionNamed is the action of that name k offers for obj.
func (k Kind) ActionNamed(obj Object, name string) (Action, bool) {
	for _, a := range k.Actions(obj) {
		if a.Name == name {
			return a, true
		}
	}
	return Action{}, false
}

// Patch is the merge patch that carries out a on an object of k, with
// token as the request's value.
func (k Kind) Patch(a Action, token string) []byte {
	switch a.Name {
	case ActionSuspend.Name:
		return []byte(`{"spec":{"suspend":true}}`)
	case ActionResume.Name:
		if k.NotReconciled {
			// An Alert or a Provider: no controller would read the request.
			return []byte(`{"spec":{"suspend":null}}`)
		}
		return mustJSON(map[string]any{
			"metadata": map[string]any{"annotations": map[string]string{meta.ReconcileRequestAnnotation: token}},
			"spec":     map[string]any{"suspend": nil},
		})
	}
	return RequestPatch(token, a.Annotations...)
}

// RequestPatch is the merge patch that asks for a reconciliation: the
// requestedAt annotation, and each of extra, set to token.
func RequestPatch(token string, extra ...string) []byte {
	annotations := map[string]string{meta.ReconcileRequestAnnotation: token}
	for _, a := range extra {
		annotations[a] = token
	}
	return mustJSON(map[string]any{"metadata": map[string]any{"annotations": annotations}})
}

// RequestToken is the value of a reconcile request made at now: the time,
// which the controller copies to lastHandledReconcileAt once handled.
func RequestToken(now time.Time) string { return now.Format(time.RFC3339Nano) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of strings always encode
	}
	return b
}
