package manager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// The cgroup files of the process's memory limit and use: cgroup v2's,
// else v1's.
var (
	cgroupV2Max     = "/sys/fs/cgroup/memory.max"
	cgroupV2Current = "/sys/fs/cgroup/memory.current"
	cgroupV1Max     = "/sys/fs/cgroup/memory/memory.limit_in_bytes"
	cgroupV1Current = "/sys/fs/cgroup/memory/memory.usage_in_bytes"
)

// OOMWatchOptions are the --oom-watch-* flags.
type OOMWatchOptions struct {
	Interval time.Duration
	// Threshold is the percentage of the limit at which the process stops.
	Threshold uint8
	// MaxPath and CurrentPath are the files of the limit and of the use;
	// empty finds cgroup v2's, else v1's.
	MaxPath, CurrentPath string
}

// ErrMemoryThreshold is what the OOM watch stops the manager with.
var ErrMemoryThreshold = errors.New("memory use reached the --oom-watch-memory-threshold of the limit")

// OOMWatch is a runnable that ends the manager, gracefully, when the
// process's memory use reaches Threshold percent of its cgroup limit, as
// helm-controller's OOMWatch gate does: the Helm actions in flight then
// finish within --graceful-shutdown-timeout rather than being killed
// midway by the kernel (which leaves their releases locked).
type OOMWatch struct {
	opts  OOMWatchOptions
	limit uint64
	log   logr.Logger
}

// NewOOMWatch reads the memory limit; a missing file, or no limit, is an
// error naming the file and what to do.
func NewOOMWatch(o OOMWatchOptions, log logr.Logger) (*OOMWatch, error) {
	if o.Threshold < 1 || o.Threshold > 100 {
		return nil, fmt.Errorf("--oom-watch-memory-threshold must be from 1 to 100, not %d", o.Threshold)
	}
	if o.Interval <= 0 {
		return nil, fmt.Errorf("--oom-watch-interval must be above 0, not %s", o.Interval)
	}
	if o.MaxPath == "" && o.CurrentPath == "" {
		o.MaxPath, o.CurrentPath = cgroupV2Max, cgroupV2Current
		if _, err := os.Stat(cgroupV2Max); err != nil {
			o.MaxPath, o.CurrentPath = cgroupV1Max, cgroupV1Current
		}
	}
	if o.MaxPath == "" || o.CurrentPath == "" {
		return nil, errors.New("give both --oom-watch-max-memory-path and --oom-watch-current-memory-path, or neither")
	}
	raw, err := os.ReadFile(o.MaxPath)
	if err != nil {
		return nil, fmt.Errorf("OOMWatch: read the memory limit: %w; give the cgroup file with --oom-watch-max-memory-path", err)
	}
	s := strings.TrimSpace(string(raw))
	limit, err := strconv.ParseUint(s, 10, 64)
	if s == "max" || (err == nil && limit == 0) {
		return nil, fmt.Errorf("OOMWatch: %s sets no memory limit; give the container a memory limit, or disable the gate", o.MaxPath)
	}
	if err != nil {
		return nil, fmt.Errorf("OOMWatch: %s does not hold a number of bytes: %q", o.MaxPath, s)
	}
	if _, err := readBytes(o.CurrentPath); err != nil {
		return nil, err
	}
	return &OOMWatch{opts: o, limit: limit, log: log}, nil
}

func readBytes(path string) (uint64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("OOMWatch: read the memory use: %w; give the cgroup file with --oom-watch-current-memory-path", err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("OOMWatch: %s does not hold a number of bytes: %q", path, strings.TrimSpace(string(raw)))
	}
	return n, nil
}

// Start reads the use every interval until ctx ends, or until it reaches
// the threshold: it then returns ErrMemoryThreshold, which stops the
// manager as a signal would, with the graceful shutdown timeout.
func (w *OOMWatch) Start(ctx context.Context) error {
	t := time.NewTicker(w.opts.Interval)
	defer t.Stop()
	for {
		used, err := readBytes(w.opts.CurrentPath)
		if err != nil {
			// A file that vanished for a moment must not stop the process.
			w.log.Error(err, "OOM watch")
		} else if used*100 >= w.limit*uint64(w.opts.Threshold) {
			w.log.Info("memory use reached the threshold: shutting down gracefully",
				"used", used, "limit", w.limit, "thresholdPercent", w.opts.Threshold)
			return fmt.Errorf("%w (%d of %d bytes, %d%%)", ErrMemoryThreshold, used, w.limit, w.opts.Threshold)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// NeedLeaderElection is false: a replica that is not the leader has
// memory to watch too.
func (*OOMWatch) NeedLeaderElection() bool { return false }
