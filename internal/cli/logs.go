package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// controllerSelector selects the driftless-controller pods.
const controllerSelector = "app=driftless-controller"

type logsOptions struct {
	kind, name, level string
	follow            bool
	tail              int64
	since             time.Duration
	sinceTime         string
	allNamespaces     bool
	fluxNamespace     string
	fromFile          string
}

// logFilter selects and formats controller log entries. It is pure: the
// same lines give the same output whether they come from pods or a file.
type logFilter struct {
	kind, name, namespace, level string
	since                        time.Time
}

// logEntry is one JSON line of the controller's logger (manager.NewLogger):
// zap's ts/level/msg/error keys and controller-runtime's reconciler keys.
type logEntry struct {
	Timestamp      string `json:"ts"`
	Level          string `json:"level"`
	Message        string `json:"msg"`
	Error          string `json:"error"`
	Logger         string `json:"logger"`
	ControllerKind string `json:"controllerKind"`
	Kind           string `json:"kind"`
	Name           string `json:"name"`
	Namespace      string `json:"namespace"`
}

// format returns the line as Flux prints it, or "" when the filter drops it:
// "2026-01-02T15:04:05.000Z info Kustomization/apps.flux-system - message".
func (lf logFilter) format(line string) string {
	line = strings.TrimSpace(line)
	var e logEntry
	if line == "" || json.Unmarshal([]byte(line), &e) != nil || e.Message == "" && e.Level == "" {
		return ""
	}
	kind := e.ControllerKind
	if kind == "" {
		kind = e.Kind
	}
	switch {
	case lf.kind != "" && !strings.EqualFold(lf.kind, kind),
		lf.name != "" && lf.name != e.Name,
		lf.namespace != "" && lf.namespace != e.Namespace,
		lf.level != "" && lf.level != e.Level:
		return ""
	}
	if !lf.since.IsZero() {
		if ts, err := time.Parse("2006-01-02T15:04:05.000Z0700", e.Timestamp); err == nil && ts.Before(lf.since) {
			return ""
		}
	}
	var b strings.Builder
	b.WriteString(e.Timestamp + " " + e.Level + " ")
	switch {
	case kind != "" && e.Name != "":
		fmt.Fprintf(&b, "%s/%s.%s", kind, e.Name, e.Namespace)
	case e.Logger != "":
		b.WriteString(e.Logger)
	default:
		b.WriteString("controller")
	}
	b.WriteString(" - " + e.Message)
	if e.Error != "" {
		b.WriteString(": " + e.Error)
	}
	return b.String()
}

// copyLogs filters the lines of r into w. tail > 0 keeps only the last tail
// matching lines (read to the end first).
func (lf logFilter) copyLogs(w io.Writer, r io.Reader, tail int64) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	var kept []string
	for sc.Scan() {
		s := lf.format(sc.Text())
		if s == "" {
			continue
		}
		if tail < 0 {
			if _, err := fmt.Fprintln(w, s); err != nil {
				return err
			}
			continue
		}
		kept = append(kept, s)
		if int64(len(kept)) > tail {
			kept = kept[1:]
		}
	}
	for _, s := range kept {
		if _, err := fmt.Fprintln(w, s); err != nil {
			return err
		}
	}
	return sc.Err()
}

func newLogsCommand(f *Factory) *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Display formatted logs for Driftless components",
		Long: `The logs command displays formatted logs from the driftless-controller, filtered by the
kind, name and namespace of the object they are about, or by level.`,
		Example: `  # Print the reconciliation logs of all Kustomizations in all namespaces
  flux logs --all-namespaces --kind=Kustomization

  # Follow the errors of one GitRepository
  flux logs --kind=GitRepository --name=podinfo -n apps --level=error -f

  # Format the logs of a controller running as a local process
  driftless-controller 2>&1 | flux logs --from-file=- -A`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&o.kind, "kind", "", "displays logs of a particular toolkit kind, e.g. GitRepository")
	fl.StringVar(&o.name, "name", "", "specifies the name of the object logs to be displayed")
	fl.StringVar(&o.level, "level", "", "log level, available options are: (debug, info, error)")
	fl.BoolVarP(&o.follow, "follow", "f", false, "specifies if the logs should be streamed")
	fl.Int64Var(&o.tail, "tail", -1, "lines of recent log file to display")
	fl.DurationVar(&o.since, "since", 0, "only return logs newer than a relative duration like 5s, 2m, or 3h")
	fl.StringVar(&o.sinceTime, "since-time", "", "only return logs after a specific date (RFC3339)")
	fl.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "displays logs for objects across all namespaces")
	fl.StringVar(&o.fluxNamespace, "flux-namespace", "", "the namespace where the driftless-controller runs (default flux-system, or $FLUX_SYSTEM_NAMESPACE)")
	fl.StringVar(&o.fromFile, "from-file", "", "read the controller's JSON log lines from this file (- for stdin) instead of the cluster")
	return cmd
}

func (o *logsOptions) run(ctx context.Context, f *Factory) error {
	lf := logFilter{kind: o.kind, name: o.name, level: o.level}
	switch o.level {
	case "", "debug", "info", "error":
	default:
		return fmt.Errorf("invalid --level %q: use debug, info or error", o.level)
	}
	if o.since < 0 {
		return fmt.Errorf("--since must be positive, got %s", o.since)
	}
	if o.since > 0 && o.sinceTime != "" {
		return fmt.Errorf("only one of --since and --since-time may be set")
	}
	if o.since > 0 {
		lf.since = time.Now().Add(-o.since)
	}
	if o.sinceTime != "" {
		t, err := time.Parse(time.RFC3339, o.sinceTime)
		if err != nil {
			return fmt.Errorf("invalid --since-time %q: write it as RFC3339, e.g. 2026-01-02T15:04:05Z", o.sinceTime)
		}
		lf.since = t
	}
	if !o.allNamespaces {
		ns, err := f.Namespace()
		if err != nil {
			return err
		}
		lf.namespace = ns
	}
	if o.fromFile != "" {
		return o.logsFromFile(f, lf)
	}
	return o.logsFromPods(ctx, f, lf)
}

func (o *logsOptions) logsFromFile(f *Factory, lf logFilter) error {
	if o.follow {
		return fmt.Errorf("--follow does not apply to --from-file: pipe the process into --from-file=- instead")
	}
	r := f.In
	if o.fromFile != "-" {
		file, err := os.Open(o.fromFile)
		if err != nil {
			return fmt.Errorf("read --from-file: %w", err)
		}
		defer file.Close()
		r = file
	}
	return lf.copyLogs(f.Out, r, o.tail)
}

// logsFromPods streams the logs of every driftless-controller pod through
// the filter. With several pods the lines of each are printed whole.
func (o *logsOptions) logsFromPods(ctx context.Context, f *Factory, lf logFilter) error {
	cfg, err := f.RESTConfig()
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ns := o.fluxNamespace
	if ns == "" {
		if ns = f.Getenv("FLUX_SYSTEM_NAMESPACE"); ns == "" {
			ns = DefaultNamespace
		}
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: controllerSelector})
	if err != nil {
		return fmt.Errorf("list driftless-controller pods in namespace %s: %w", ns, err)
	}
	if len(pods.Items) == 0 {
		return fmt.Errorf("no driftless-controller pods in namespace %s; is Driftless installed? run flux check (or set --flux-namespace)", ns)
	}
	// --tail counts the pods' raw lines, as kubectl logs does, and lets
	// --follow stream from the start.
	opts := &corev1.PodLogOptions{Container: "manager", Follow: o.follow}
	if o.tail >= 0 {
		opts.TailLines = &o.tail
	}
	if !lf.since.IsZero() {
		opts.SinceTime = &metav1.Time{Time: lf.since}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(pods.Items))
	for i, pod := range pods.Items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf strings.Builder
			w := io.Writer(&buf)
			if o.follow {
				w = &lockedWriter{mu: &mu, w: f.Out}
			}
			errs[i] = readPodLogs(ctx, cs, ns, pod.Name, opts, func(r io.Reader) error { return lf.copyLogs(w, r, -1) })
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprint(f.Out, buf.String())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("read the logs of pod %s/%s: %w", ns, pods.Items[i].Name, err)
		}
	}
	return nil
}

// readPodLogs opens the log stream of one pod and hands it to consume.
func readPodLogs(ctx context.Context, cs kubernetes.Interface, ns, pod string, opts *corev1.PodLogOptions, consume func(io.Reader) error) error {
	stream, err := cs.CoreV1().Pods(ns).GetLogs(pod, opts).Stream(ctx)
	if err != nil {
		return err
	}
	defer stream.Close()
	return consume(stream)
}

// lockedWriter serialises the lines of concurrently followed pods.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
