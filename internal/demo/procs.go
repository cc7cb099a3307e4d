package demo

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// stopTimeout bounds how long a child gets to stop after SIGTERM before it
// is killed; localcluster stops five components in turn.
const stopTimeout = 60 * time.Second

// process is a long-running child: the local cluster or the controller.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error // set before exited closes
}

// startProcess starts bin with its output in logPath. The child runs in a
// process group of its own, so that Ctrl-C in a terminal reaches only the
// demo, which then stops the children in order; it gets SIGTERM if the demo
// dies without stopping it (Pdeathsig), so nothing outlives a killed demo.
func startProcess(name, logPath, bin string, args ...string) (*process, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating the %s log: %w", name, err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// pid is the child's process ID.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exitedEarly describes how a child that should still run ended.
func (p *process) exitedEarly() error {
	return fmt.Errorf("%s exited unexpectedly (%v); its log %s ends with:\n%s", p.name, p.err, p.logPath, logTail(p.logPath, 15))
}

// stop sends SIGTERM, waits for the child to exit, and kills it if it has not
// within stopTimeout. An exit caused by our signal is not an error.
func (p *process) stop() error {
	select {
	case <-p.exited:
		return p.exitErr()
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.exitErr()
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s did not stop within %s of SIGTERM; killed it", p.name, stopTimeout)
	}
}

func (p *process) exitErr() error {
	var exit *exec.ExitError
	if p.err == nil {
		return nil
	}
	if errors.As(p.err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
	}
	return fmt.Errorf("%s: %v (log: %s)", p.name, p.err, p.logPath)
}

// logTail returns the last n lines of a log file, indented.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "    (no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}
