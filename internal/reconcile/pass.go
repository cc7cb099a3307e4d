package reconcile

import (
	"time"

	"github.com/driftless/driftless/api/meta"
)

// Pass is one reconciliation in progress, handed to every step. The steps
// set their conditions through it, so that the skeleton knows which
// conditions this pass spoke about: the declared ones no step of a
// complete pass touched are stale, and cleared.
type Pass struct {
	obj      meta.Conditioned
	progress func(reason, message string) error
	deferred []func()
	events   []passEvent
	touched  map[string]bool
	// complete says every step of the plan ran and returned nil.
	complete bool
	// EventMetadata is attached to the events this pass emits (revision...).
	EventMetadata map[string]string
	// took is how long the plan and the status patch took.
	took time.Duration
}

func newPass(obj meta.Conditioned, progress func(reason, message string) error) *Pass {
	return &Pass{obj: obj, progress: progress, touched: map[string]bool{}, EventMetadata: map[string]string{}}
}

// Progress reports what the reconciliation is doing now: Reconciling=True
// with the message, patched at once so a person watching sees it.
func (p *Pass) Progress(reason, message string) error { return p.progress(reason, message) }

// MarkTrue sets condition t of the object to True.
func (p *Pass) MarkTrue(t, reason, message string) {
	p.touched[t] = true
	MarkTrue(p.obj, t, reason, message)
}

// MarkFalse sets condition t of the object to False.
func (p *Pass) MarkFalse(t, reason, message string) {
	p.touched[t] = true
	MarkFalse(p.obj, t, reason, message)
}

// MarkUnknown sets condition t of the object to Unknown.
func (p *Pass) MarkUnknown(t, reason, message string) {
	p.touched[t] = true
	MarkUnknown(p.obj, t, reason, message)
}

// Delete removes condition t: what it said is over.
func (p *Pass) Delete(t string) {
	p.touched[t] = true
	Delete(p.obj, t)
}

// Keep says condition t still holds as an earlier pass left it (a step
// that found nothing new to check), so a complete pass does not clear it.
func (p *Pass) Keep(t string) { p.touched[t] = true }

// passEvent is an event a step asked for, emitted after the status patch.
type passEvent struct{ eventType, reason, message string }

// Event records a Kubernetes event about the object (a change set, say),
// with the pass's EventMetadata as annotations.
func (p *Pass) Event(eventType, reason, message string) {
	p.events = append(p.events, passEvent{eventType, reason, message})
}

// Defer registers f to run when the plan ends, however it ends (last
// registered, first run): removing a temporary checkout, say.
func (p *Pass) Defer(f func()) { p.deferred = append(p.deferred, f) }

func (p *Pass) runDeferred() {
	for i := len(p.deferred) - 1; i >= 0; i-- {
		p.deferred[i]()
	}
	p.deferred = nil
}
