package child

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

func TestStopEndsAChildThatHonoursSIGTERM(t *testing.T) {
	p, err := Start("sleeper", filepath.Join(t.TempDir(), "logs", "sleeper.log"), "sh",
		[]string{"-c", "echo started; exec sleep 60"}, Options{OwnProcessGroup: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.PID() <= 0 {
		t.Fatalf("pid %d", p.PID())
	}
	waitLog(t, p, "started")
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.ExitErr(); err != nil {
		t.Fatalf("an exit from our SIGTERM is an error: %v", err)
	}
	if tail := p.Tail(5); tail != "started" {
		t.Fatalf("tail %q, want the log", tail)
	}
}

func TestStopKillsAChildThatIgnoresSIGTERM(t *testing.T) {
	p, err := Start("stubborn", filepath.Join(t.TempDir(), "stubborn.log"), "sh",
		[]string{"-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	waitLog(t, p, "ready")
	if err := p.Stop(300 * time.Millisecond); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Stop = %v, want the kill reported", err)
	}
}

func TestExitErrReportsAFailedChild(t *testing.T) {
	p, err := Start("failing", filepath.Join(t.TempDir(), "failing.log"), "sh", []string{"-c", "echo boom; exit 3"}, Options{Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	<-p.Exited()
	if p.Err() == nil || p.ExitErr() == nil || !strings.Contains(p.ExitErr().Error(), "failing.log") {
		t.Fatalf("Err %v, ExitErr %v: want the failure with the log named", p.Err(), p.ExitErr())
	}
	if err := p.Stop(time.Second); err != nil {
		t.Fatalf("Stop of an exited child: %v", err)
	}
	if _, err := Start("missing", filepath.Join(t.TempDir(), "m.log"), "/no/such/binary", nil, Options{}); err == nil {
		t.Fatal("a missing binary started")
	}
}

// waitLog waits until the child's log ends with line.
func waitLog(t *testing.T, p *Process, line string) {
	t.Helper()
	testcluster.Eventually(t, 10*time.Second, fmt.Sprintf("the log to say %q", line), func() (bool, error) {
		if p.Tail(1) != line {
			return false, fmt.Errorf("the log ends with %q", p.Tail(5))
		}
		return true, nil
	})
}
