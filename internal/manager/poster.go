package manager

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/internal/reconcile"
)

// Poster defaults, as Flux's controllers post their events.
const (
	PostTimeout  = 5 * time.Second
	PostAttempts = 4
	PostBackoff  = time.Second
)

// Poster posts Flux events to another process's notification controller
// (--events-addr), as Flux's controllers do: the Event JSON, 5 s per
// attempt, retried with back-off on a 5xx answer or a connection error,
// never on 429 (the receiver rate limited a repeat) or another 4xx.
type Poster struct {
	address string
	// shown is the address as errors show it, without a password.
	shown  string
	client *http.Client
	// Attempts bounds the tries of one event; Backoff is the first wait
	// between them, doubled each time.
	Attempts int
	Backoff  time.Duration
	// Sleep waits between attempts; nil is time.Sleep.
	Sleep func(time.Duration)
}

// NewPoster returns a Poster to address, an http or https URL.
func NewPoster(address string) (*Poster, error) {
	if err := checkEventsAddr(address); err != nil {
		return nil, err
	}
	u, _ := url.Parse(address)
	return &Poster{
		address:  address,
		shown:    u.Redacted(),
		client:   &http.Client{Timeout: PostTimeout},
		Attempts: PostAttempts,
		Backoff:  PostBackoff,
	}, nil
}

// checkEventsAddr refuses an --events-addr that is not an http(s) URL
// with a host.
func checkEventsAddr(address string) error {
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("--events-addr must be an http or https URL with a host, such as http://notification-controller.flux-system.svc.cluster.local./")
	}
	return nil
}

// errRateLimited is the receiver's 429: a repeat it chose not to send.
var errRateLimited = fmt.Errorf("%w: the notification controller answered 429", reconcile.ErrEventRateLimited)

// Submit implements reconcile.Submitter: it posts the event, retrying as
// the type says, and returns the last failure.
func (p *Poster) Submit(e eventv1.Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	sleep := p.Sleep
	if sleep == nil {
		sleep = time.Sleep
	}
	wait := p.Backoff
	attempts := max(p.Attempts, 1)
	for i := 1; ; i++ {
		retry, err := p.post(body)
		if err == nil || !retry {
			return err
		}
		if i >= attempts {
			return fmt.Errorf("%w (gave up after %d attempts)", err, attempts)
		}
		sleep(wait)
		wait *= 2
	}
}

// post makes one attempt and says whether another is worth it.
func (p *Poster) post(body []byte) (retry bool, err error) {
	req, err := http.NewRequest(http.MethodPost, p.address, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("post event to --events-addr %s: %w", p.shown, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return true, fmt.Errorf("post event to --events-addr %s: %w", p.shown, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return false, errRateLimited
	case resp.StatusCode >= 500:
		return true, fmt.Errorf("post event to --events-addr %s: %s", p.shown, resp.Status)
	default:
		return false, fmt.Errorf("post event to --events-addr %s: %s, not retried", p.shown, resp.Status)
	}
}
