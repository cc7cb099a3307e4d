package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The labels of a row: which controllers the phase measured.
const (
	labelDriftless = "driftless"
	labelFlux      = "flux"
	// labelBench is W0's: no controller runs, the bench applies itself.
	labelBench = "bench"
)

// Flux's controllers, by the name of their executable in -flux DIR (and of
// their Deployment in a Flux install).
const (
	fluxSource    = "source-controller"
	fluxKustomize = "kustomize-controller"
	fluxHelm      = "helm-controller"
)

// fluxNamespace is what Flux's Deployments set RUNTIME_NAMESPACE to: the
// namespace they run in, flux-system, where the workloads put their
// sources too.
const fluxNamespace = fleetNamespace

// fluxControllers are the Flux controllers workload w needs, source first;
// nil for a workload with no Flux counterpart (W0 runs no controller).
func fluxControllers(w string) []string {
	switch w {
	case "W1", "W2", "W3", "W4", "W8":
		return []string{fluxSource, fluxKustomize}
	case "W5":
		return []string{fluxSource, fluxHelm}
	case "W7":
		return []string{fluxSource}
	}
	return nil
}

// fluxWorkloads lists the workloads -flux runs Flux for, for messages.
const fluxWorkloads = "W1 to W4 and W8 (source-controller, kustomize-controller), W5 (source-controller, helm-controller) and W7 (source-controller)"

// resolveFlux checks -flux DIR against the workloads to run: every Flux
// controller one of them needs must be an executable file in DIR. It
// returns DIR made absolute. Nothing is fetched or built: DIR is filled
// outside the project (docs/performance.md says how).
func resolveFlux(dir string, workloads []string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("-flux %s: %w", dir, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("-flux %s: %w", dir, err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("-flux %s: not a directory (want the directory holding Flux's %s, %s and %s executables)", dir, fluxSource, fluxKustomize, fluxHelm)
	}
	var problems []string
	some := false
	for _, w := range workloads {
		need := fluxControllers(w)
		some = some || need != nil
		for _, name := range need {
			if problem := checkExecutable(filepath.Join(abs, name)); problem != "" {
				problems = append(problems, fmt.Sprintf("%s (%s needs %s): %s", filepath.Join(abs, name), w, strings.Join(need, " and "), problem))
			}
		}
	}
	if !some {
		return "", fmt.Errorf("-flux %s: none of the workloads %s has a Flux run; -flux runs %s", dir, strings.Join(workloads, ","), fluxWorkloads)
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		problems = slices.Compact(problems)
		return "", fmt.Errorf("-flux %s: %s; build Flux's controllers outside this repository as docs/performance.md describes", dir, strings.Join(problems, "; "))
	}
	return abs, nil
}

// checkExecutable says what is wrong with path as a program to run, or "".
func checkExecutable(path string) string {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case err != nil:
		return err.Error()
	case !info.Mode().IsRegular():
		return "not a regular file"
	case info.Mode().Perm()&0o111 == 0:
		return "not executable (chmod +x it)"
	}
	return ""
}

// fluxAddrs are the loopback addresses one Flux controller listens on.
type fluxAddrs struct {
	metrics, health string
	storage         string // source-controller only
}

// fluxArgs are the flags of Flux's controller name, as its Deployment in
// Flux's install passes them (--watch-all-namespaces, JSON logs,
// --storage-path and --storage-adv-addr for source-controller) with what
// a process beside the cluster needs instead: the addresses on loopback,
// the storage advertised where it listens, leader election off (one
// replica, and no Lease traffic in the figures), no --events-addr (no
// notification-controller runs: events go to the API server only, as
// Driftless's do), and --concurrent as the Driftless run of the workload.
func fluxArgs(name, dir string, a fluxAddrs, concurrent int) []string {
	args := []string{
		"--watch-all-namespaces=true",
		"--log-level=info",
		"--log-encoding=json",
		"--enable-leader-election=false",
		"--metrics-addr=" + a.metrics,
		"--health-addr=" + a.health,
		"--concurrent=" + strconv.Itoa(concurrent),
	}
	if name == fluxSource {
		args = append(args,
			"--storage-path="+filepath.Join(dir, "data"),
			"--storage-addr="+a.storage,
			"--storage-adv-addr="+a.storage)
	}
	return args
}

// fluxEnv is the environment of a Flux controller: the bench's, without
// GOMAXPROCS (every core, as the Driftless run) and without a KUBECONFIG,
// HOME or TMPDIR of the user's; KUBECONFIG the run's cluster (Flux's
// controllers read it from the environment), RUNTIME_NAMESPACE as Flux's
// Deployments set it, and HOME and TMPDIR in the run's directory, so
// that nothing the controller writes (Helm's caches, kustomize builds)
// lands outside it, and no controller can fall back to the user's
// ~/.kube/config and reach another cluster.
func fluxEnv(base []string, kubeconfig, dir string) []string {
	drop := []string{"GOMAXPROCS", "KUBECONFIG", "HOME", "TMPDIR", "RUNTIME_NAMESPACE"}
	env := slices.DeleteFunc(slices.Clone(base), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(drop, k)
	})
	return append(env,
		"KUBECONFIG="+kubeconfig,
		"RUNTIME_NAMESPACE="+fluxNamespace,
		"HOME="+filepath.Join(dir, "home"),
		"TMPDIR="+filepath.Join(dir, "tmp"))
}

// startFlux runs Flux's controllers names from binDir as separate
// processes against kubeconfig, each with its own directory under
// runDir/flux, and waits until each answers /readyz. On error the ones
// started are stopped.
func startFlux(ctx context.Context, binDir string, names []string, kubeconfig, runDir string, concurrent int) ([]*controller, error) {
	var started []*controller
	fail := func(err error) ([]*controller, error) {
		for _, c := range started {
			_ = c.stop()
		}
		return nil, err
	}
	var health []string
	for _, name := range names {
		addrs, err := freeAddrs(3)
		if err != nil {
			return fail(err)
		}
		a := fluxAddrs{metrics: addrs[0], health: addrs[1], storage: addrs[2]}
		dir := filepath.Join(runDir, "flux", name)
		for _, sub := range []string{"data", "home", "tmp"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
				return fail(fmt.Errorf("create the directory of %s: %w", name, err))
			}
		}
		p, err := startProcEnv(name, filepath.Join(dir, name+".log"), filepath.Join(binDir, name),
			fluxEnv(os.Environ(), kubeconfig, dir), fluxArgs(name, dir, a, concurrent)...)
		if err != nil {
			return fail(err)
		}
		started = append(started, &controller{proc: p, metricsURL: "http://" + a.metrics + "/metrics"})
		health = append(health, "http://"+a.health+"/readyz")
	}
	for i, c := range started {
		if err := waitHTTP(ctx, c.proc, health[i], time.Minute); err != nil {
			return fail(fmt.Errorf("flux: %w (log: %s)", err, c.proc.LogPath))
		}
	}
	return started, nil
}

// startControllers starts what the run measures: driftless-controller,
// or with the flux variant Flux's controllers that workload needs.
func (e *env) startControllers(ctx context.Context) error {
	c := e.cfg
	workload := c.workload
	if c.variant == labelFlux {
		names := fluxControllers(workload)
		if names == nil {
			return fmt.Errorf("%s has no Flux run; -flux runs %s", workload, fluxWorkloads)
		}
		c.logf("%s: starting Flux's %s from %s, --concurrent=%d", workload, strings.Join(names, ", "), c.fluxDir, c.concurrent)
		var err error
		e.flux, err = startFlux(ctx, c.fluxDir, names, e.cluster.kubeconfig, e.dir, c.concurrent)
		return err
	}
	c.logf("%s: starting driftless-controller --concurrent=%d %s", workload, c.concurrent, strings.Join(c.ctrlArgs, " "))
	var err error
	e.ctrl, err = startController(ctx, c.controllerBin, e.cluster.kubeconfig, e.dir, c.concurrent, c.ctrlArgs...)
	return err
}

// variantsOf are the runs of workload w: Driftless's, then Flux's with
// -flux when w has a Flux counterpart.
func variantsOf(fluxDir, w string) []string {
	if fluxDir != "" && fluxControllers(w) != nil {
		return []string{labelDriftless, labelFlux}
	}
	return []string{labelDriftless}
}

// labelRows sets the Controller label of a run's rows: the variant, or
// bench for W0, whose measured process is the bench itself.
func labelRows(rows []row, workload, variant string) []row {
	for i := range rows {
		rows[i].Controller = variant
		if workload == "W0" {
			rows[i].Controller = labelBench
		}
	}
	return rows
}

// checkOutsideRepo refuses a -flux directory inside the repository at
// root: Flux's binaries are built in a scratch directory and never
// committed (nor kept in the repository's ignored caches, where a broad
// `git add -f` would take them).
func checkOutsideRepo(dir, root string) error {
	resolve := func(p string) string {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return filepath.Clean(p)
	}
	rel, err := filepath.Rel(resolve(root), resolve(dir))
	if err != nil {
		return nil // not under root: on another volume, or unrelated
	}
	if rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))) {
		return fmt.Errorf("-flux %s is inside the repository %s; build Flux's controllers in a scratch directory outside it, as docs/performance.md describes", dir, root)
	}
	return nil
}
