// Package child runs long-lived child processes (the local cluster, the
// controller, a Git server) for the programs that orchestrate them, the
// demo and the benchmarks: output to a log file, no child outliving its
// parent, a graceful stop that turns into a kill.
package child

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

// Options say how to run a child.
type Options struct {
	// Env is the child's environment; nil inherits the parent's.
	Env []string
	// OwnProcessGroup puts the child in a process group of its own, so
	// that Ctrl-C in a terminal reaches only the parent, which then stops
	// its children in order.
	OwnProcessGroup bool
	// DeathSignal is sent to the child if the parent dies without stopping
	// it; 0 means SIGKILL.
	DeathSignal syscall.Signal
}

// Process is a running (or ended) child.
type Process struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error // set before exited closes
}

// Start runs bin with its output in logPath.
func Start(name, logPath, bin string, args []string, o Options) (*Process, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating the %s log: %w", name, err)
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Env = o.Env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	sig := o.DeathSignal
	if sig == 0 {
		sig = syscall.SIGKILL
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: sig, Setpgid: o.OwnProcessGroup}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// PID is the child's process ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited is closed once the child has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is how the child ended (Wait's error); valid once Exited is closed.
func (p *Process) Err() error { return p.err }

// Stop sends SIGTERM and waits for the child to exit, killing it if it has
// not within grace; that kill is the only error. A child that already
// exited is left as it is.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s did not stop within %s of SIGTERM; killed it", p.Name, grace)
	}
}

// ExitErr says how an exited child failed: nil for a clean exit or one
// caused by SIGTERM (Stop's).
func (p *Process) ExitErr() error {
	if p.err == nil {
		return nil
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
	}
	return fmt.Errorf("%s: %v (log: %s)", p.Name, p.err, p.LogPath)
}

// Tail returns the last n lines of the child's log.
func (p *Process) Tail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
