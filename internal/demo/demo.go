// Package demo runs the local GitOps loop of `make demo`: a local cluster, a
// Git server holding examples/fleet (with a SOPS-encrypted Secret), the
// controller as a local process, `flux bootstrap git`, and a wait until every
// Kustomization is Ready.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/driftless/driftless/internal/testkit/gitserver"
)

// Options configure Run.
type Options struct {
	// DataDir holds everything the demo makes; it is emptied first.
	DataDir string
	// RepoRoot is the Driftless checkout; found from Executable when empty.
	RepoRoot string
	// Executable is the demo binary's path: the other binaries sit next to it
	// (or in RepoRoot/bin).
	Executable string
	// Nodes is the number of fake nodes of the cluster.
	Nodes int
	// ExitWhenReady returns once every Kustomization is Ready, stopping
	// everything, instead of running until ctx ends.
	ExitWhenReady bool
	// ReadyTimeout bounds the wait for all-Ready; 0 means 10 minutes.
	ReadyTimeout time.Duration
	// Out receives the progress lines and the summary.
	Out io.Writer
}

// Run runs the demo until ctx ends (or until all is Ready with
// ExitWhenReady), then stops everything it started, in reverse order. An
// error means a step failed; what was started is stopped all the same.
func Run(ctx context.Context, opts Options) (err error) {
	d := &demo{opts: opts, out: opts.Out, began: time.Now()}
	if d.out == nil {
		d.out = os.Stdout
	}
	if d.opts.Nodes <= 0 {
		d.opts.Nodes = 2
	}
	if d.opts.ReadyTimeout <= 0 {
		d.opts.ReadyTimeout = 10 * time.Minute
	}
	defer func() {
		if stopErr := d.stopAll(); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	if err := d.start(ctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted before everything was Ready")
		}
		return err
	}
	if opts.ExitWhenReady {
		return nil
	}
	d.say("◎", "running; press Ctrl-C to stop everything")
	return d.watch(ctx)
}

type demo struct {
	opts  Options
	out   io.Writer
	began time.Time

	root, dataDir               string
	localcluster, ctrlBin, flux string
	kubeconfig                  string
	cluster, controller         *process
	git                         *gitserver.Server
	clients                     *clients
	ageIdentity                 string
	password, repoURL           string
	webAddr                     string   // where the controller serves the web UI
	want                        []string // Kustomizations to wait for
	lock                        *os.File
	stops                       []stopper
}

type stopper struct {
	name string
	stop func() error
}

func (d *demo) say(symbol, format string, args ...any) {
	fmt.Fprintf(d.out, "%s %s\n", symbol, fmt.Sprintf(format, args...))
}

// step runs one step between a ► line and a ✔ (or ✗) line.
func (d *demo) step(title string, run func() (string, error)) error {
	d.say("►", "%s", title)
	done, err := run()
	if err != nil {
		d.say("✗", "%s", err)
		return err
	}
	if done != "" {
		d.say("✔", "%s", done)
	}
	return nil
}

func (d *demo) onStop(name string, stop func() error) {
	d.stops = append(d.stops, stopper{name, stop})
}

// stopAll stops what was started, last first, waiting for each.
func (d *demo) stopAll() error {
	var errs []error
	for i := len(d.stops) - 1; i >= 0; i-- {
		s := d.stops[i]
		d.say("►", "stopping %s", s.name)
		if err := s.stop(); err != nil {
			d.say("✗", "%s: %v", s.name, err)
			errs = append(errs, err)
			continue
		}
		d.say("✔", "%s stopped", s.name)
	}
	d.stops = nil
	if d.lock != nil {
		d.lock.Close()
	}
	return errors.Join(errs...)
}

func (d *demo) start(ctx context.Context) error {
	steps := []struct {
		title string
		run   func(context.Context) (string, error)
	}{
		{"preparing " + d.opts.DataDir, d.prepare},
		{"starting the local cluster", d.startCluster},
		{"generating an age key and pushing examples/fleet to a local Git server", d.startGit},
		{"starting driftless-controller", d.startController},
		{"bootstrapping", d.bootstrap},
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := d.step(s.title, func() (string, error) { return s.run(ctx) }); err != nil {
			return err
		}
	}
	return d.waitAndSummarize(ctx)
}

// prepare finds the repository and the binaries, locks the data directory
// (one demo per directory) and empties it: every run starts clean.
func (d *demo) prepare(context.Context) (string, error) {
	var err error
	if d.root, err = findRepoRoot(d.opts.RepoRoot, d.opts.Executable); err != nil {
		return "", err
	}
	for _, b := range []struct {
		name string
		dst  *string
	}{{"localcluster", &d.localcluster}, {"driftless-controller", &d.ctrlBin}, {"flux", &d.flux}} {
		if *b.dst, err = findBinary(b.name, d.opts.Executable, d.root); err != nil {
			return "", err
		}
	}
	if d.dataDir, err = filepath.Abs(d.opts.DataDir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(d.dataDir, 0o755); err != nil {
		return "", fmt.Errorf("cannot create %s: %w", d.dataDir, err)
	}
	lockPath := filepath.Join(d.dataDir, "demo.lock")
	lock, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return "", fmt.Errorf("cannot write to %s: %w", d.dataDir, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(lockPath)
		lock.Close()
		return "", fmt.Errorf("%s is in use by another driftless-demo (pid %s): stop it, or pass another --data-dir", d.dataDir, trimmed(holder))
	}
	d.lock = lock
	_ = lock.Truncate(0)
	_, _ = lock.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
	entries, err := os.ReadDir(d.dataDir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.Name() != "demo.lock" {
			if err := os.RemoveAll(filepath.Join(d.dataDir, e.Name())); err != nil {
				return "", fmt.Errorf("cleaning %s: %w", d.dataDir, err)
			}
		}
	}
	return "clean data directory " + d.dataDir, nil
}

func (d *demo) waitAndSummarize(ctx context.Context) error {
	d.say("◎", "waiting for every Kustomization to be Ready")
	states, err := d.clients.waitReady(ctx, d.want, d.opts.ReadyTimeout, func(line string) {
		d.say("◎", "%s", line)
	})
	if err != nil {
		d.say("✗", "%v", err)
		for _, s := range states {
			if !s.ready {
				d.say(" ", "%s: %s", s.name, firstLine(s.message))
			}
		}
		d.say(" ", "controller log: %s", d.controller.LogPath)
		return err
	}
	d.say("✔", "all %d Kustomizations are Ready, %.1fs after start", len(states), time.Since(d.began).Seconds())
	fmt.Fprintln(d.out)
	cmd := exec.CommandContext(ctx, d.flux, "get", "all", "-A", "--kubeconfig", d.kubeconfig)
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("flux get all -A: %w", err)
	}
	tokenFile := filepath.Join(d.dataDir, "ui-token")
	if err := d.clients.uiToken(ctx, tokenFile); err != nil {
		return err
	}
	clone := fmt.Sprintf("http://driftless:%s@%s/fleet.git", d.password, d.git.URL()[len("http://"):])
	fmt.Fprintf(d.out, `
Use the cluster:

  export KUBECONFIG=%s

See it in the web UI (log in with the token in %s):

  http://%s/

Edit the fleet and watch it reconcile:

  git clone %s fleet
  cd fleet   # change apps/production/deployment-patch.yaml (replicas), commit, git push
  flux get kustomizations -A -w

The age key that decrypts the fleet's secrets is %s
(for sops: export SOPS_AGE_KEY_FILE=%[5]s). Controller log: %s

`, d.kubeconfig, tokenFile, d.webAddr, clone, filepath.Join(d.dataDir, "age.agekey"), d.controller.LogPath)
	return nil
}

// watch runs until ctx ends or a child dies.
func (d *demo) watch(ctx context.Context) error {
	select {
	case <-ctx.Done():
		d.say("►", "interrupted: stopping everything the demo started")
		return nil
	case <-d.cluster.Exited():
		err := d.cluster.exitedEarly()
		d.say("✗", "%v", err)
		return err
	case <-d.controller.Exited():
		err := d.controller.exitedEarly()
		d.say("✗", "%v", err)
		return err
	}
}

func trimmed(b []byte) string {
	s := string(b)
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	if s == "" {
		return "unknown"
	}
	return s
}
