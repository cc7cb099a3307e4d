package manager

import (
	"context"
	"testing"
	"time"
)

// The grace of the passes in flight starts when the manager stops and lasts
// --graceful-shutdown-timeout; a negative timeout never ends it.
func TestGraceTimerStartsWithTheStop(t *testing.T) {
	for _, c := range []struct {
		timeout time.Duration
		ends    bool
	}{{0, true}, {time.Millisecond, true}, {-1, false}} {
		grace, end := context.WithCancel(context.Background())
		stopping, stop := context.WithCancel(context.Background())
		returned := make(chan error, 1)
		go func() { returned <- graceTimer{grace: c.timeout, end: end}.Start(stopping) }()
		if grace.Err() != nil {
			t.Fatalf("timeout %v: grace ended before the stop", c.timeout)
		}
		stop()
		// Start returns at once: the manager stops its other runnables
		// after this one, and must not wait for the grace to pass.
		if err := <-returned; err != nil {
			t.Fatal(err)
		}
		if c.ends {
			<-grace.Done()
		} else if grace.Err() != nil {
			t.Errorf("timeout %v: grace ended", c.timeout)
		}
		end()
	}
	if (graceTimer{}).NeedLeaderElection() {
		t.Error("the grace timer must run on a manager that is not the leader too")
	}
}
