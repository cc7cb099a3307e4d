package reconcile

import (
	"context"
	"slices"

	"github.com/driftless/driftless/api/meta"
)

// StepOutcome is what one step left behind when run on its own.
type StepOutcome struct {
	// Err is what the step returned.
	Err error
	// Events are the events it asked for, in order.
	Events []RecordedEvent
	// Progress are the messages it reported with Pass.Progress.
	Progress []string
	// Touched are the conditions it set, deleted or kept, sorted.
	Touched []string
}

// RecordedEvent is an event a step asked for.
type RecordedEvent struct{ Type, Reason, Message string }

// RunStep runs step on obj outside the skeleton, with a fresh pass and the
// state s (nil for a fresh one), then the functions it deferred: for fast
// table tests of a single step against a fake client. The object's
// conditions are as the step left them; the skeleton's own work (marking
// the error's condition, the summary, the patch) is not done.
func RunStep[T meta.Object, S any](ctx context.Context, step Step[T, S], obj T, s *S) StepOutcome {
	var out StepOutcome
	p := newPass(obj, func(_, message string) error {
		out.Progress = append(out.Progress, message)
		return nil
	})
	if s == nil {
		s = new(S)
	}
	out.Err = step.Run(ctx, obj, p, s)
	p.runDeferred()
	for _, e := range p.events {
		out.Events = append(out.Events, RecordedEvent{Type: e.eventType, Reason: e.reason, Message: e.message})
	}
	for t := range p.touched {
		out.Touched = append(out.Touched, t)
	}
	slices.Sort(out.Touched)
	return out
}
