package demo

import (
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/driftless/driftless/internal/testkit/child"
)

// stopTimeout bounds how long a child gets to stop after SIGTERM before it
// is killed; localcluster stops five components in turn.
const stopTimeout = 60 * time.Second

// process is a long-running child: the local cluster or the controller.
type process struct{ *child.Process }

// startProcess starts bin with its output in logPath. The child runs in a
// process group of its own, so that Ctrl-C in a terminal reaches only the
// demo, which then stops the children in order; it gets SIGTERM if the demo
// dies without stopping it, so nothing outlives a killed demo.
func startProcess(name, logPath, bin string, args ...string) (*process, error) {
	p, err := child.Start(name, logPath, bin, args, child.Options{OwnProcessGroup: true, DeathSignal: syscall.SIGTERM})
	if err != nil {
		return nil, err
	}
	return &process{p}, nil
}

// pid is the child's process ID.
func (p *process) pid() int { return p.PID() }

// exitedEarly describes how a child that should still run ended.
func (p *process) exitedEarly() error {
	return fmt.Errorf("%s exited unexpectedly (%v); its log %s ends with:\n%s", p.Name, p.Err(), p.LogPath, logTail(p.Process, 15))
}

// stop sends SIGTERM, waits for the child to exit, and kills it if it has not
// within stopTimeout. An exit caused by our signal is not an error.
func (p *process) stop() error {
	if err := p.Stop(stopTimeout); err != nil {
		return err
	}
	return p.ExitErr()
}

// logTail returns the last n lines of a child's log, indented.
func logTail(p *child.Process, n int) string {
	return "    " + strings.ReplaceAll(p.Tail(n), "\n", "\n    ")
}
