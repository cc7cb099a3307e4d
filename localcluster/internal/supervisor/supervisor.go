// Package supervisor starts the components of a local cluster as child
// processes of the current binary, sends each one's output to its own log
// file, reports a child that exits, and stops them all in reverse order.
package supervisor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ParentPIDEnv names the environment variable that tells a child the
// supervisor's PID. A child whose parent already differs (the supervisor died
// before the child's parent-death signal was armed) must exit at once.
const ParentPIDEnv = "LOCALCLUSTER_PARENT_PID"

// Process is one running child.
type Process struct {
	Name    string
	LogFile string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error // the result of Wait, valid once done is closed
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process's exit status; valid once Done is closed.
func (p *Process) Err() error { return p.err }

// Pid is the child's process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Supervisor owns the children. It is safe for use by one goroutine at a
// time, except for Exited, which any goroutine may read.
type Supervisor struct {
	// Exe is the binary to re-execute; Args are the arguments before the
	// component's own flags (for example "component", name is appended).
	Exe    string
	Args   []string
	LogDir string
	// Env is added to the children's environment.
	Env []string

	mu       sync.Mutex
	procs    []*Process
	stopping bool
	exited   chan *Process
}

// New returns a Supervisor that starts exe with args, name and flags.
func New(exe string, args []string, logDir string, env []string) *Supervisor {
	return &Supervisor{Exe: exe, Args: args, LogDir: logDir, Env: env, exited: make(chan *Process, 16)}
}

// Exited delivers every child that exits while the supervisor is not
// stopping: an unexpected exit.
func (s *Supervisor) Exited() <-chan *Process { return s.exited }

// Start runs name with flags as a child process. extraEnv is added for this
// child only. Output goes to LogDir/name.log, truncated first.
func (s *Supervisor) Start(name string, flags []string, extraEnv ...string) (*Process, error) {
	logFile := filepath.Join(s.LogDir, name+".log")
	out, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: open log: %w", name, err)
	}
	args := append(append(append([]string{}, s.Args...), name), flags...)
	cmd := exec.Command(s.Exe, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(append(os.Environ(), s.Env...), extraEnv...)
	cmd.Env = append(cmd.Env, ParentPIDEnv+"="+strconv.Itoa(os.Getpid()))
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, LogFile: logFile, cmd: cmd, done: make(chan struct{})}
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
		s.mu.Lock()
		unexpected := !s.stopping
		s.mu.Unlock()
		if unexpected {
			select {
			case s.exited <- p:
			default: // enough exits are queued to fail the cluster already
			}
		}
	}()
	return p, nil
}

// Stop sends SIGTERM to every child in reverse start order, waits up to
// grace for each, and kills what is left. It returns once all have exited.
func (s *Supervisor) Stop(grace time.Duration, logf func(format string, args ...any)) {
	s.mu.Lock()
	s.stopping = true
	procs := append([]*Process(nil), s.procs...)
	s.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		select {
		case <-p.done:
			continue
		default:
		}
		start := time.Now()
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			logf("stopped %s in %s", p.Name, time.Since(start).Round(time.Millisecond))
		case <-time.After(grace):
			logf("%s did not stop within %s; killing it", p.Name, grace)
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

// Kill ends every child at once with SIGKILL and waits for them.
func (s *Supervisor) Kill() {
	s.mu.Lock()
	s.stopping = true
	procs := append([]*Process(nil), s.procs...)
	s.mu.Unlock()
	for _, p := range procs {
		_ = p.cmd.Process.Kill()
	}
	for _, p := range procs {
		<-p.done
	}
}

// ExitError describes a child that exited on its own, with the end of its log.
type ExitError struct {
	Name    string
	Err     error
	LogFile string
	Tail    string
}

func (e *ExitError) Error() string {
	status := "exited"
	if e.Err != nil {
		status = e.Err.Error()
	}
	return fmt.Sprintf("%s exited unexpectedly (%s); last lines of %s:\n%s", e.Name, status, e.LogFile, e.Tail)
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitErrorOf builds the error for a process that exited unexpectedly.
func ExitErrorOf(p *Process) *ExitError {
	return &ExitError{Name: p.Name, Err: p.err, LogFile: p.LogFile, Tail: Tail(p.LogFile, 20, 4096)}
}

// Tail returns at most the last n lines (and maxBytes bytes) of a file.
func Tail(path string, n int, maxBytes int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	offset := max(info.Size()-maxBytes, 0)
	buf := make([]byte, info.Size()-offset)
	if _, err := f.ReadAt(buf, offset); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	buf = bytes.TrimRight(buf, "\n")
	lines := bytes.Split(buf, []byte("\n"))
	if offset > 0 && len(lines) > 1 {
		lines = lines[1:] // the first line is cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
