package s3test

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is a running versitygw and its combined output.
type process struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error

	mu  sync.Mutex
	out strings.Builder
}

// startProcess starts versitygw with args and env, collecting its output;
// Pdeathsig kills it if the test binary dies without cleaning up.
func startProcess(bin string, args, env []string) (*process, error) {
	p := &process{exited: make(chan struct{})}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = p, p
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p.cmd = cmd
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(p.exited)
	}()
	return p, nil
}

// Write collects the process's output for the log printed on failure.
func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// exitedEarly says the process ended on its own (a bind failure), not by
// stop.
func (p *process) exitedEarly() bool {
	select {
	case <-p.exited:
		var exitErr *exec.ExitError
		return errors.As(p.waitErr, &exitErr) && exitErr.ExitCode() > 0
	default:
		return false
	}
}

// stop asks versitygw to end, then kills it if it has not within 10s.
func (p *process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}
