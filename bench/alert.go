package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// W1A is W1 with an info Alert on every Kustomization, sent by a generic
// Provider to a webhook in the benchmark: what notifications cost, and
// whether every event is accounted for (sent or rate limited).

// webhook counts the notifications posted to it.
type webhook struct {
	srv      *http.Server
	url      string
	received atomic.Int64
}

func startWebhook() (*webhook, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	w := &webhook{url: "http://" + l.Addr().String() + "/events"}
	w.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.received.Add(1)
	})}
	go func() { _ = w.srv.Serve(l) }()
	return w, nil
}

func (w *webhook) close() { _ = w.srv.Close() }

// createAlert makes the Provider and the Alert that send the events of
// every Kustomization of the fleet to url.
func (e *env) createAlert(ctx context.Context, url string) error {
	provider := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider",
		"metadata": map[string]any{"name": "bench", "namespace": fleetNamespace},
		"spec":     map[string]any{"type": "generic", "address": url},
	}}
	alert := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
		"metadata": map[string]any{"name": "bench", "namespace": fleetNamespace},
		"spec": map[string]any{
			"providerRef":   map[string]any{"name": "bench"},
			"eventSeverity": "info",
			"eventSources":  []any{map[string]any{"kind": "Kustomization", "name": "*"}},
		},
	}}
	for _, o := range []*unstructured.Unstructured{provider, alert} {
		gvr := schema.GroupVersionResource{Group: "notification.toolkit.fluxcd.io", Version: "v1beta3", Resource: strings.ToLower(o.GetKind()) + "s"}
		if _, err := e.cluster.dynamic.Resource(gvr).Namespace(fleetNamespace).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create %s: %w", o.GetKind(), err)
		}
	}
	return nil
}

// notifyCounts are the notification counters of driftless-controller.
type notifyCounts struct {
	// events reached the dispatcher: queued for matching, rate limited,
	// or dropped for another reason.
	queued, rateLimited, dropped float64
	// deliveries to the webhook: sent, failed, dropped.
	sent, failed, deliveryDropped float64
	// relayDropped were lost before the dispatcher.
	relayDropped float64
	// waiting are events in the dispatcher's queues.
	waiting float64
}

func (n notifyCounts) minus(o notifyCounts) notifyCounts {
	return notifyCounts{queued: n.queued - o.queued, rateLimited: n.rateLimited - o.rateLimited, dropped: n.dropped - o.dropped,
		sent: n.sent - o.sent, failed: n.failed - o.failed, deliveryDropped: n.deliveryDropped - o.deliveryDropped,
		relayDropped: n.relayDropped - o.relayDropped, waiting: n.waiting}
}

// parseNotify reads the notification counters from a /metrics text.
func parseNotify(r io.Reader) (notifyCounts, error) {
	var n notifyCounts
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for s.Scan() {
		line := s.Text()
		name, rest, ok := strings.Cut(line, "{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return n, fmt.Errorf("parse metrics value in %q: %w", line, err)
		}
		result := labelValue(labels, "result")
		switch name {
		case "driftless_notification_events_total":
			switch result {
			case "queued":
				n.queued += v
			case "rate_limited":
				n.rateLimited += v
			default:
				n.dropped += v
			}
		case "driftless_notification_deliveries_total":
			switch result {
			case "sent":
				n.sent += v
			case "failed":
				n.failed += v
			case "dropped":
				n.deliveryDropped += v
			}
		case "driftless_notification_relay_events_total":
			if result == "dropped" {
				n.relayDropped += v
			}
		case "driftless_notification_queue_length":
			n.waiting += v
		}
	}
	return n, s.Err()
}

// labelValue is the value of label key in a Prometheus label list.
func labelValue(labels, key string) string {
	for _, kv := range strings.Split(labels, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k == key {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

func scrapeNotify(ctx context.Context, url string) (notifyCounts, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return notifyCounts{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return notifyCounts{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	return parseNotify(resp.Body)
}

// settle waits until the dispatcher's queues are empty and every queued
// event has a final result, then returns the counters.
func (e *env) settle(ctx context.Context) (notifyCounts, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n, err := scrapeNotify(ctx, e.ctrl.metricsURL)
		if err != nil {
			return n, err
		}
		if n.waiting == 0 || time.Now().After(deadline) {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// accountNotifications fills the row's notification figures: what the
// phase's events became, from before to the settled end of the phase.
func (e *env) accountNotifications(ctx context.Context, r *row, before notifyCounts, hook *webhook, hookBefore int64) error {
	after, err := e.settle(ctx)
	if err != nil {
		return err
	}
	d := after.minus(before)
	r.Notifications = &notificationFigures{
		Submitted: d.queued + d.rateLimited + d.dropped, Sent: d.sent, RateLimited: d.rateLimited,
		Lost:     d.dropped + d.failed + d.deliveryDropped + d.relayDropped,
		Received: float64(hook.received.Load() - hookBefore),
	}
	return nil
}

// notificationFigures are a W1A row's notification accounts.
type notificationFigures struct {
	// Submitted events reached the dispatcher in the phase (the
	// GitRepository's too, which the Alert does not select); Sent were
	// delivered to the webhook, RateLimited were repeats, Lost went nowhere
	// (dropped or failed, before or after the dispatcher); Received is
	// what the webhook counted.
	Submitted   float64 `json:"submitted"`
	Sent        float64 `json:"sent"`
	RateLimited float64 `json:"rate_limited"`
	Lost        float64 `json:"lost"`
	Received    float64 `json:"received"`
}

func (n notificationFigures) String() string {
	return fmt.Sprintf("%.0f events submitted: %.0f sent (the webhook got %.0f), %.0f rate limited, %.0f lost",
		n.Submitted, n.Sent, n.Received, n.RateLimited, n.Lost)
}

// phaseAlerts are W1A's Provider and Alert and the counters a phase starts
// from; for other workloads every method does nothing.
type phaseAlerts struct {
	e          *env
	hook       *webhook
	before     notifyCounts
	hookBefore int64
}

// alertsFor sets up W1A's webhook, Provider and Alert.
func (e *env) alertsFor(ctx context.Context, workload string) (*phaseAlerts, error) {
	if workload != "W1A" {
		return &phaseAlerts{}, nil
	}
	hook, err := startWebhook()
	if err != nil {
		return nil, err
	}
	if err := e.createAlert(ctx, hook.url); err != nil {
		hook.close()
		return nil, err
	}
	return &phaseAlerts{e: e, hook: hook}, nil
}

// start notes the counters at the start of a phase.
func (a *phaseAlerts) start(ctx context.Context) error {
	if a.hook == nil {
		return nil
	}
	n, err := a.e.settle(ctx)
	if err != nil {
		return err
	}
	a.before, a.hookBefore = n, a.hook.received.Load()
	return nil
}

// account fills r's notification figures once the phase's events settled.
func (a *phaseAlerts) account(ctx context.Context, r *row) error {
	if a.hook == nil {
		return nil
	}
	return a.e.accountNotifications(ctx, r, a.before, a.hook, a.hookBefore)
}

func (a *phaseAlerts) close() {
	if a.hook != nil {
		a.hook.close()
	}
}
