package manager

import (
	"context"
	"time"
)

// graceTimer ends Deps.Grace the graceful shutdown timeout after the
// manager begins to stop, when controller-runtime stops waiting for the
// passes in flight too. It runs leader or not, and is among the first
// runnables the manager stops, so the timer starts with the stop.
type graceTimer struct {
	grace time.Duration
	end   context.CancelFunc
}

func (g graceTimer) Start(ctx context.Context) error {
	<-ctx.Done()
	if g.grace >= 0 {
		time.AfterFunc(g.grace, g.end)
	}
	return nil
}

func (graceTimer) NeedLeaderElection() bool { return false }
