package reconcile_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
)

func TestRunStepReportsWhatTheStepDid(t *testing.T) {
	type state struct{ seen string }
	var deferred bool
	step := reconcile.Step[*sourcev1.GitRepository, state]{Name: "fetch", Run: func(_ context.Context, obj *sourcev1.GitRepository, p *reconcile.Pass, s *state) error {
		if err := p.Progress("Progressing", "fetching "+obj.Spec.URL); err != nil {
			return err
		}
		p.MarkFalse("FetchFailed", "GitOperationFailed", "no route")
		p.Delete("ArtifactOutdated")
		p.Event("Warning", "GitOperationFailed", "no route to "+obj.Spec.URL)
		p.Defer(func() { deferred = true })
		s.seen = obj.Spec.URL
		return reconcile.StallingOn("FetchFailed", "GitOperationFailed", errors.New("no route"))
	}}
	obj := &sourcev1.GitRepository{Spec: sourcev1.GitRepositorySpec{URL: "https://example.com/r"}}
	s := &state{}
	out := reconcile.RunStep(context.Background(), step, obj, s)

	var stalling *reconcile.StallingError
	if !errors.As(out.Err, &stalling) || stalling.Reason != "GitOperationFailed" {
		t.Errorf("Err = %v, want the step's StallingError", out.Err)
	}
	if !slices.Equal(out.Progress, []string{"fetching https://example.com/r"}) {
		t.Errorf("Progress = %q", out.Progress)
	}
	if want := []reconcile.RecordedEvent{{"Warning", "GitOperationFailed", "no route to https://example.com/r"}}; !slices.Equal(out.Events, want) {
		t.Errorf("Events = %+v, want %+v", out.Events, want)
	}
	if want := []string{"ArtifactOutdated", "FetchFailed"}; !slices.Equal(out.Touched, want) {
		t.Errorf("Touched = %q, want %q", out.Touched, want)
	}
	if !deferred || s.seen != obj.Spec.URL {
		t.Errorf("deferred ran: %v; state: %+v", deferred, s)
	}
	if c := reconcile.Get(obj, "FetchFailed"); c == nil || c.Reason != "GitOperationFailed" {
		t.Errorf("the step's condition is not on the object: %+v", obj.Status.Conditions)
	}
}
