package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux architecture Go supports (sysconf(_SC_CLK_TCK)).
const clockTicks = 100

// procCPUSeconds reads the user plus system CPU time of process pid from
// /proc/PID/stat.
func procCPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time of pid %d: %w", pid, err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU returns utime+stime in seconds from the text of /proc/PID/stat.
// The command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStatCPU(stat string) (float64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc stat: no ')' in %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc stat: %d fields after the command, want at least 13", len(f))
	}
	utime, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse /proc stat utime %q: %w", f[11], err)
	}
	stime, err := strconv.ParseUint(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse /proc stat stime %q: %w", f[12], err)
	}
	return float64(utime+stime) / clockTicks, nil
}

// procPeakRSSMiB reads the peak resident set size (VmHWM) of process pid.
func procPeakRSSMiB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read peak RSS of pid %d: %w", pid, err)
	}
	return parseStatusKiB(string(b), "VmHWM")
}

// procRSSMiB reads the resident set size (VmRSS) of process pid now.
func procRSSMiB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read RSS of pid %d: %w", pid, err)
	}
	return parseStatusKiB(string(b), "VmRSS")
}

// parseStatusKiB returns the field key of /proc/PID/status ("VmHWM:  1234 kB")
// in MiB.
func parseStatusKiB(status, key string) (float64, error) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("parse /proc status %s: unexpected %q", key, strings.TrimSpace(line))
		}
		kib, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc status %s: %w", key, err)
		}
		return float64(kib) / 1024, nil
	}
	return 0, fmt.Errorf("parse /proc status: no %s line", key)
}

// selfCPUSeconds is the CPU time this process has used (rusage).
func selfCPUSeconds() (float64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	sec := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return sec(ru.Utime) + sec(ru.Stime), nil
}

// childPID finds the child of parent whose command line holds word (the
// localcluster binary runs each component as `localcluster component NAME`).
func childPID(parent int, word string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list /proc: %w", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if ppid, ok := parseStatPPID(string(stat)); !ok || ppid != parent {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
			if string(arg) == word {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("no child process %q of pid %d", word, parent)
}

func parseStatPPID(stat string) (int, bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// parseRequestsTotal sums every series of client-go's
// rest_client_requests_total in a Prometheus text exposition.
func parseRequestsTotal(r io.Reader) (float64, error) {
	m, err := parseMetrics(r)
	if err != nil {
		return 0, err
	}
	if !m.found {
		return 0, fmt.Errorf("no rest_client_requests_total in the metrics")
	}
	return m.requests, nil
}

// metrics are the sums the benchmark reads from the controller's /metrics.
type metrics struct {
	requests    float64 // rest_client_requests_total, every series
	reconcile   float64 // gotk_reconcile_duration_seconds_sum of Kustomizations
	cacheHits   float64 // gotk_cache_events_total of hits (the Helm index cache)
	cacheMisses float64 // gotk_cache_events_total of misses
	found       bool    // rest_client_requests_total was there
}

func parseMetrics(r io.Reader) (metrics, error) {
	var m metrics
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for s.Scan() {
		line := s.Text()
		for _, series := range []struct {
			name, label string
			into        *float64
		}{
			{"rest_client_requests_total", "", &m.requests},
			{"gotk_reconcile_duration_seconds_sum", `kind="Kustomization"`, &m.reconcile},
			{"gotk_cache_events_total", `event_type="cache_hit"`, &m.cacheHits},
			{"gotk_cache_events_total", `event_type="cache_miss"`, &m.cacheMisses},
		} {
			rest, ok := strings.CutPrefix(line, series.name)
			if !ok || rest == "" || (rest[0] != '{' && rest[0] != ' ') || !strings.Contains(rest, series.label) {
				continue
			}
			f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
			if len(f) == 0 {
				return m, fmt.Errorf("parse metrics: no value in %q", line)
			}
			v, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				return m, fmt.Errorf("parse metrics value in %q: %w", line, err)
			}
			*series.into += v
			m.found = m.found || series.into == &m.requests
		}
	}
	if err := s.Err(); err != nil {
		return m, fmt.Errorf("read metrics: %w", err)
	}
	return m, nil
}

// scrapeMetrics reads the controller's /metrics endpoint.
func scrapeMetrics(ctx context.Context, url string) (metrics, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return metrics{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return metrics{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return metrics{}, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	m, err := parseMetrics(resp.Body)
	if err == nil && !m.found {
		err = fmt.Errorf("scrape %s: no rest_client_requests_total in the metrics", url)
	}
	return m, err
}

// countingTransport counts the requests made through it.
type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(r)
}

// parseAPIServerRequests reads kube-apiserver's apiserver_request_total
// and sums it by request: verb, resource, subresource, and "dry-run" for
// dry-runs ("APPLY deployments (dry-run)", "PATCH kustomizations/status").
// Requests for non-resource paths (/readyz, /metrics) are left out.
func parseAPIServerRequests(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for s.Scan() {
		rest, ok := strings.CutPrefix(s.Text(), "apiserver_request_total{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			return nil, fmt.Errorf("parse apiserver_request_total: no value in %q", s.Text())
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("parse apiserver_request_total value in %q: %w", s.Text(), err)
		}
		resource := label(labels, "resource")
		if resource == "" {
			continue
		}
		key := label(labels, "verb") + " " + resource
		if sub := label(labels, "subresource"); sub != "" {
			key += "/" + sub
		}
		if label(labels, "dry_run") != "" {
			key += " (dry-run)"
		}
		out[key] += v
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("read apiserver metrics: %w", err)
	}
	return out, nil
}

// label returns the value of name in a Prometheus label set (a="x",b="y").
func label(labels, name string) string {
	_, rest, ok := strings.Cut(","+labels, ","+name+`="`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// scrapeAPIServer reads kube-apiserver's /metrics with client.
func scrapeAPIServer(ctx context.Context, client rest.Interface) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	body, err := client.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("scrape kube-apiserver metrics: %w", err)
	}
	return parseAPIServerRequests(bytes.NewReader(body))
}

// sample is what a phase costs, read before and after it.
type sample struct {
	cpu          float64            // CPU seconds of the subject (summed over its processes)
	requests     float64            // API requests the subject made
	peakRSS      float64            // peak RSS of the subject in MiB: the sum of each process's own peak
	apiserverCPU float64            // CPU seconds of kube-apiserver
	reconcile    float64            // seconds the controllers spent reconciling Kustomizations
	cluster      map[string]float64 // kube-apiserver's requests from everyone, by request
	// cpuBy and peakRSSBy are cpu and peakRSS by process name, when the
	// subject asks for them (Flux's controllers).
	cpuBy, peakRSSBy map[string]float64
}

// measuredProc is one controller process of a subject.
type measuredProc struct {
	name       string
	pid        int
	metricsURL string // its /metrics
}

// subject is what a workload measures: the controller processes (one
// driftless-controller, or Flux's controllers, summed), or for W0 the
// bench process itself.
type subject struct {
	procs        []measuredProc // none means this process
	byProcess    bool           // sample each process's CPU and peak RSS too
	counter      *atomic.Int64  // requests this process made, when procs is empty
	apiserverPID int
	apiserver    rest.Interface // reads kube-apiserver's /metrics; nil skips it
}

func (s subject) sample(ctx context.Context) (sample, error) {
	var out sample
	var err error
	if len(s.procs) == 0 {
		if out.cpu, err = selfCPUSeconds(); err != nil {
			return out, err
		}
		out.requests = float64(s.counter.Load())
		if out.peakRSS, err = procPeakRSSMiB(os.Getpid()); err != nil {
			return out, err
		}
	}
	if s.byProcess {
		out.cpuBy, out.peakRSSBy = map[string]float64{}, map[string]float64{}
	}
	for _, p := range s.procs {
		cpu, err := procCPUSeconds(p.pid)
		if err != nil {
			return out, fmt.Errorf("%s: %w", p.name, err)
		}
		rss, err := procPeakRSSMiB(p.pid)
		if err != nil {
			return out, fmt.Errorf("%s: %w", p.name, err)
		}
		m, err := scrapeMetrics(ctx, p.metricsURL)
		if err != nil {
			return out, fmt.Errorf("%s: %w", p.name, err)
		}
		out.cpu += cpu
		out.peakRSS += rss
		out.requests += m.requests
		out.reconcile += m.reconcile
		if out.cpuBy != nil {
			out.cpuBy[p.name] += cpu
			out.peakRSSBy[p.name] += rss
		}
	}
	if s.apiserverPID != 0 {
		if out.apiserverCPU, err = procCPUSeconds(s.apiserverPID); err != nil {
			return out, err
		}
	}
	if s.apiserver != nil {
		if out.cluster, err = scrapeAPIServer(ctx, s.apiserver); err != nil {
			return out, err
		}
	}
	return out, nil
}

// saveHeap writes driftless-controller's heap profile (its /debug/pprof,
// on with --enable-pprof) to heap-<phase>.pb.gz in the run's directory,
// when -heap-profiles asks for it: `go tool pprof -sample_index=inuse_space`
// then says what holds the memory.
func (e *env) saveHeap(ctx context.Context, phase string) error {
	if !e.cfg.heapProfiles || e.ctrl == nil {
		return nil
	}
	url := strings.TrimSuffix(e.ctrl.metricsURL, "/metrics") + "/debug/pprof/heap"
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("heap profile: %s answered %s", url, resp.Status)
	}
	path := filepath.Join(e.dir, "heap-"+phase+".pb.gz")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	e.cfg.logf("heap profile after %s: %s", phase, path)
	return f.Close()
}
