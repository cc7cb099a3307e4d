package notifier

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// alertmanagerBinEnv overrides where the Alertmanager binary is.
const alertmanagerBinEnv = "ALERTMANAGER_BIN"

// liveAlertmanager is a real Prometheus Alertmanager on a free port.
type liveAlertmanager struct {
	URL string
	mu  sync.Mutex
	log strings.Builder
}

func (a *liveAlertmanager) logText() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.log.String()
}

// startAlertmanager runs Debian's prometheus-alertmanager (which .ci/run
// installs) with a minimal configuration in t.TempDir(), returning once
// it logs that it listens. Its absence fails the test, naming the
// package.
func startAlertmanager(t *testing.T) *liveAlertmanager {
	t.Helper()
	bin := os.Getenv(alertmanagerBinEnv)
	if bin == "" {
		for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
			if path, err := exec.LookPath(name); err == nil {
				bin = path
				break
			}
		}
	}
	if _, err := os.Stat(bin); bin == "" || err != nil {
		t.Fatalf("the test needs Prometheus Alertmanager: apt-get install prometheus-alertmanager (as .ci/run does), or set %s to its binary", alertmanagerBinEnv)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(config, []byte("route:\n  receiver: sink\nreceivers:\n  - name: sink\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var lastErr string
	for attempt := 0; attempt < 5; attempt++ {
		am, err := runAlertmanager(t, bin, config, filepath.Join(dir, fmt.Sprintf("data%d", attempt)))
		if err == nil {
			return am
		}
		lastErr = err.Error()
		if !strings.Contains(lastErr, "address already in use") {
			break
		}
	}
	t.Fatal(lastErr)
	return nil
}

func runAlertmanager(t *testing.T, bin, config, storage string) (*liveAlertmanager, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--config.file="+config, "--storage.path="+storage,
		"--web.listen-address="+addr, "--cluster.listen-address=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	am := &liveAlertmanager{URL: "http://" + addr}
	ready, exited := make(chan struct{}), make(chan struct{})
	go func() {
		s := bufio.NewScanner(stderr)
		signalled := false
		for s.Scan() {
			am.mu.Lock()
			am.log.WriteString(s.Text() + "\n")
			am.mu.Unlock()
			if !signalled && strings.Contains(s.Text(), `msg="Listening on"`) {
				signalled = true
				close(ready)
			}
		}
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	select {
	case <-ready:
		t.Cleanup(stop)
		return am, nil
	case <-exited:
		return nil, fmt.Errorf("alertmanager exited before it listened:\n%s", am.logText())
	case <-time.After(30 * time.Second):
		stop()
		return nil, fmt.Errorf("alertmanager not listening after 30s:\n%s", am.logText())
	}
}

// gettableAlert is the part of an alert /api/v2/alerts lists that the
// test reads.
type gettableAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

func (a *liveAlertmanager) alerts(t *testing.T) []gettableAlert {
	t.Helper()
	resp, err := http.Get(a.URL + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var alerts []gettableAlert
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("list alerts: %d %v", resp.StatusCode, err)
	}
	return alerts
}

// An error event reaches a real Alertmanager as one alert with Flux's
// labels and annotations; a hostile event (metadata keys that are no
// label names, quotes, newlines, 100 KB) is accepted too, where the same
// keys posted unsanitised are refused.
func TestAlertmanagerLive(t *testing.T) {
	am := startAlertmanager(t)
	// The address as Flux documents it, trailing slash included.
	n, err := New(Settings{Type: "alertmanager", Address: am.URL + "/api/v2/alerts/"})
	if err != nil {
		t.Fatal(err)
	}
	e := testEvent(eventv1.EventSeverityError)
	e.Timestamp.Time = time.Now().UTC().Truncate(time.Second)
	if err := n.Post(t.Context(), e); err != nil {
		t.Fatalf("post: %v\n%s", err, am.logText())
	}
	alerts := am.alerts(t)
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1: %+v", len(alerts), alerts)
	}
	got := alerts[0]
	for name, want := range map[string]string{
		"alertname":                            "FluxKustomizationHealthCheckFailed",
		"severity":                             "error",
		"reason":                               "HealthCheckFailed",
		"kind":                                 "Kustomization",
		"name":                                 "apps",
		"namespace":                            "flux-system",
		"reportingcontroller":                  "kustomize-controller",
		"kustomize_toolkit_fluxcd_io_revision": e.Metadata["kustomize.toolkit.fluxcd.io/revision"],
	} {
		if got.Labels[name] != want {
			t.Errorf("label %s = %q, want %q", name, got.Labels[name], want)
		}
	}
	if got.Annotations["message"] != e.Message || got.Annotations["summary"] != "production cluster" {
		t.Errorf("annotations %v", got.Annotations)
	}
	if !got.StartsAt.Equal(e.Timestamp.Time) || got.Status.State != "active" {
		t.Errorf("startsAt %v (want %v), state %q", got.StartsAt, e.Timestamp.Time, got.Status.State)
	}

	hostile := testEvent(eventv1.EventSeverityError)
	hostile.Timestamp.Time = time.Now().UTC()
	hostile.InvolvedObject.Name = "other"
	hostile.Message = "quote \" and\nnewline " + strings.Repeat("x", 100*1024)
	hostile.Metadata = map[string]string{"event.toolkit.fluxcd.io/a-b c": "v\"\n", "0day": "1"}
	if err := n.Post(t.Context(), hostile); err != nil {
		t.Fatalf("post of the hostile event: %v\n%s", err, am.logText())
	}
	var found bool
	for _, a := range am.alerts(t) {
		if a.Labels["name"] == "other" {
			found = a.Labels["event_toolkit_fluxcd_io_a_b_c"] == "v\"\n" && a.Labels["_0day"] == "1" &&
				strings.HasPrefix(a.Annotations["message"], "quote \" and\nnewline ")
		}
	}
	if !found {
		t.Errorf("the hostile event's alert is missing or changed: %+v", am.alerts(t))
	}

	raw, _ := json.Marshal([]map[string]any{{"labels": map[string]string{"alertname": "x", "a.b/c": "v"}}})
	resp, err := http.Post(am.URL+"/api/v2/alerts", "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unsanitised label name answered %d, want 400: the sanitising test proves nothing", resp.StatusCode)
	}
}
