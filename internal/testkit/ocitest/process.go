package ocitest

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// start runs the registry on a free port and waits until it answers.
func (r *Registry) start() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	r.Host = fmt.Sprintf("127.0.0.1:%d", port)
	r.URL = "http://" + r.Host
	if r.opts.TLS {
		r.URL = "https://" + r.Host
	}
	configPath := filepath.Join(r.dir, "config.yml")
	if err := os.WriteFile(configPath, []byte(r.config()), 0o600); err != nil {
		return err
	}

	r.mu.Lock()
	r.log, r.requests, r.marks, r.nextMark, r.ready = nil, nil, 0, 0, false
	r.mu.Unlock()

	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		return err
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		stdoutR.Close()
		stdoutW.Close()
		return err
	}
	cmd := exec.Command(r.bin, "serve", configPath)
	cmd.Env = registryEnv()
	cmd.Stdout, cmd.Stderr = stdoutW, stderrW
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	stdoutW.Close()
	stderrW.Close()
	if err != nil {
		stdoutR.Close()
		stderrR.Close()
		return fmt.Errorf("start the registry %s: %w", r.bin, err)
	}
	exited := make(chan struct{})
	r.cmd, r.exited = cmd, exited
	var readers sync.WaitGroup
	readers.Add(2)
	go r.read(&readers, stdoutR, true)
	go r.read(&readers, stderrR, false)
	go func() {
		readers.Wait()
		err := cmd.Wait()
		r.mu.Lock()
		r.waitErr = err
		close(exited)
		r.changed.Broadcast()
		r.mu.Unlock()
	}()

	if err := r.waitListening(60 * time.Second); err != nil {
		r.kill()
		return err
	}
	// The first mark request is the GET /v2/ the registry must answer:
	// 200, or 401 with a challenge when it requires authentication.
	resp, err := r.mark()
	if err != nil {
		r.kill()
		return fmt.Errorf("registry %s: GET /v2/: %w\n%s", r.Host, err, r.logTail())
	}
	want := http.StatusOK
	if r.opts.Auth != NoAuth {
		want = http.StatusUnauthorized
	}
	if resp.StatusCode != want {
		r.kill()
		return fmt.Errorf("registry %s: GET /v2/ answered %s, want %d\n%s", r.Host, resp.Status, want, r.logTail())
	}
	return nil
}

// registryEnv is the test's environment without the REGISTRY_* variables
// that would override the configuration file, and with the OpenTelemetry
// exporter of distribution v3 switched off (it would dial localhost:4318).
func registryEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") && !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return append(env, "OTEL_TRACES_EXPORTER=none", "OTEL_METRICS_EXPORTER=none", "OTEL_LOGS_EXPORTER=none")
}

// waitListening waits for the registry's "listening on" log line, which it
// writes once its listener is open, or for it to exit.
func (r *Registry) waitListening(timeout time.Duration) error {
	timer := time.AfterFunc(timeout, func() {
		r.mu.Lock()
		r.changed.Broadcast()
		r.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(timeout)
	r.mu.Lock()
	defer r.mu.Unlock()
	for !r.ready {
		select {
		case <-r.exited:
			return fmt.Errorf("registry %s exited before it listened (%v):\n%s", r.bin, r.waitErr, tail(r.log))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("registry %s not listening after %s:\n%s", r.bin, timeout, tail(r.log))
		}
		r.changed.Wait()
	}
	return nil
}

// read copies one of the registry's outputs into the log; stdout carries
// the access log, one line per request.
func (r *Registry) read(done *sync.WaitGroup, f *os.File, access bool) {
	defer done.Done()
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for s.Scan() {
		line := s.Text()
		r.mu.Lock()
		r.log = append(r.log, line...)
		r.log = append(r.log, '\n')
		if access {
			if req, ok := parseAccessLine(line); ok {
				if n, ok := markOf(req.URI); ok {
					if n > r.marks {
						r.marks = n
					}
				} else {
					r.requests = append(r.requests, req)
				}
			}
		} else if strings.Contains(line, "listening on") {
			r.ready = true
		}
		r.changed.Broadcast()
		r.mu.Unlock()
	}
}

// Close stops the registry (SIGTERM, then SIGKILL after 10s), stops the
// token server and removes the registry's files.
func (r *Registry) Close() error {
	var err error
	r.closeOnce.Do(func() {
		if r.cmd != nil {
			r.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited already
			select {
			case <-r.exited:
			case <-time.After(10 * time.Second):
				r.kill()
				err = fmt.Errorf("registry %s did not stop within 10s of SIGTERM; killed", r.Host)
			}
		}
		r.cleanup()
	})
	return err
}

func (r *Registry) kill() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill() //nolint:errcheck // it may have exited already
	<-r.exited
}

func (r *Registry) cleanup() {
	if r.TokenServer != nil {
		r.TokenServer.close()
	}
	if r.client != nil {
		r.client.CloseIdleConnections()
	}
	os.RemoveAll(r.dir)
}

// Log is what the registry wrote so far: its JSON log (stderr) and its
// access log (stdout), interleaved as read.
func (r *Registry) Log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.log)
}

func (r *Registry) logTail() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return tail(r.log)
}

func tail(log []byte) string {
	const max = 16 * 1024
	if len(log) > max {
		return "[...]\n" + string(log[len(log)-max:])
	}
	return string(log)
}
