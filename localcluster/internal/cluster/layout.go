package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Layout names the files and directories inside the data directory.
type Layout struct{ Dir string }

// Kubeconfig is the admin kubeconfig, present only while the cluster is ready.
func (l Layout) Kubeconfig() string { return filepath.Join(l.Dir, "kubeconfig") }

// PKI holds the CA, certificates and keys.
func (l Layout) PKI() string { return filepath.Join(l.Dir, "pki") }

// Logs holds one log file per component.
func (l Layout) Logs() string { return filepath.Join(l.Dir, "logs") }

// Etcd is etcd's data directory: the cluster's state.
func (l Layout) Etcd() string { return filepath.Join(l.Dir, "etcd") }

// Config holds the components' kubeconfigs and configuration files.
func (l Layout) Config() string { return filepath.Join(l.Dir, "config") }

// KWOKHome is KWOK's home directory, so no ~/.kwok of the user applies.
func (l Layout) KWOKHome() string { return filepath.Join(l.Dir, "kwok") }

// Ports remembers the ports of the previous run.
func (l Layout) Ports() string { return filepath.Join(l.Dir, "ports.json") }

// Lock is held (flock) by the localcluster that uses the directory.
func (l Layout) Lock() string { return filepath.Join(l.Dir, "localcluster.lock") }

// Prepare creates the directory tree and takes the lock. The returned file
// holds the lock until it is closed (or the process ends).
func (l Layout) Prepare() (*os.File, error) {
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create data directory %s: %w", l.Dir, err)
	}
	lock, err := os.OpenFile(l.Lock(), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot write to data directory %s: %w", l.Dir, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(l.Lock())
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(holder))
			if pid == "" {
				pid = "unknown"
			}
			return nil, fmt.Errorf("data directory %s is in use by another localcluster (pid %s)", l.Dir, pid)
		}
		return nil, fmt.Errorf("lock data directory %s: %w", l.Dir, err)
	}
	if err := lock.Truncate(0); err != nil {
		lock.Close()
		return nil, fmt.Errorf("cannot write to data directory %s: %w", l.Dir, err)
	}
	if _, err := lock.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		lock.Close()
		return nil, fmt.Errorf("cannot write to data directory %s: %w", l.Dir, err)
	}
	for _, dir := range []string{l.PKI(), l.Logs(), l.Config(), l.KWOKHome()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			lock.Close()
			return nil, fmt.Errorf("cannot write to data directory %s: %w", l.Dir, err)
		}
	}
	// A kubeconfig left by an earlier run must not signal readiness.
	if err := os.Remove(l.Kubeconfig()); err != nil && !errors.Is(err, os.ErrNotExist) {
		lock.Close()
		return nil, fmt.Errorf("remove stale kubeconfig: %w", err)
	}
	return lock, nil
}
