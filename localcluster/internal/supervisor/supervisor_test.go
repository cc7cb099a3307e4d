package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shell returns a Supervisor whose children run script with sh; the child's
// name is $1.
func shell(t *testing.T, script string) *Supervisor {
	t.Helper()
	return New("/bin/sh", []string{"-c", script, "sh"}, t.TempDir(), []string{"EXTRA=1"})
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if data, _ := os.ReadFile(path); strings.Contains(string(data), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	data, _ := os.ReadFile(path)
	t.Fatalf("%s never contained %q; has %q", path, want, data)
}

func TestStopInReverseOrder(t *testing.T) {
	order := filepath.Join(t.TempDir(), "order")
	// Each child records its SIGTERM, then exits.
	s := shell(t, fmt.Sprintf(`trap 'echo "$1" >> %s; exit 0' TERM; echo "up $EXTRA $%s"; while :; do sleep 0.05; done`, order, ParentPIDEnv))
	for _, name := range []string{"first", "second", "third"} {
		if _, err := s.Start(name, nil); err != nil {
			t.Fatal(err)
		}
		waitFile(t, filepath.Join(s.LogDir, name+".log"), fmt.Sprintf("up 1 %d", os.Getpid()))
	}
	var lines []string
	s.Stop(5*time.Second, func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) })
	data, err := os.ReadFile(order)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(data)); strings.Join(got, " ") != "third second first" {
		t.Errorf("stop order = %v, want third second first", got)
	}
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "stopped third in ") {
		t.Errorf("log lines = %q", lines)
	}
	select {
	case p := <-s.Exited():
		t.Errorf("%s reported as an unexpected exit during Stop", p.Name)
	default:
	}
}

func TestStopKillsStragglers(t *testing.T) {
	s := shell(t, `trap '' TERM; echo ready; while :; do sleep 0.05; done`)
	p, err := s.Start("stubborn", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFile(t, p.LogFile, "ready")
	var lines []string
	s.Stop(200*time.Millisecond, func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) })
	<-p.Done()
	if status, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || status.Signal() != syscall.SIGKILL {
		t.Errorf("exit = %v, want killed", p.Err())
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "did not stop within 200ms; killing it") {
		t.Errorf("log lines = %q", lines)
	}
}

func TestUnexpectedExitIsReported(t *testing.T) {
	s := shell(t, `for i in 1 2 3 4 5; do echo "line $i"; done; echo "fatal: $1 broke" >&2; exit 3`)
	if _, err := s.Start("flaky", []string{"--flag"}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-s.Exited():
		err := ExitErrorOf(p)
		msg := err.Error()
		for _, want := range []string{"flaky exited unexpectedly (exit status 3)", "line 5", "fatal: flaky broke"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q lacks %q", msg, want)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("exit not reported")
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Tail(path, 3, 1<<20); got != "line 97\nline 98\nline 99" {
		t.Errorf("Tail by lines = %q", got)
	}
	// A byte limit drops the partial first line.
	if got := Tail(path, 50, 20); got != "line 98\nline 99" {
		t.Errorf("Tail by bytes = %q", got)
	}
	if got := Tail(filepath.Join(t.TempDir(), "missing"), 3, 100); !strings.HasPrefix(got, "(cannot read log:") {
		t.Errorf("Tail of a missing file = %q", got)
	}
}
