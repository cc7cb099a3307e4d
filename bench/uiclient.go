package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// uiAccount is the ServiceAccount the benchmark logs in to the UI as.
const uiAccount = "bench-ui"

// uiSessionCookie is the UI's session cookie (internal/web/auth.CookieName;
// the bench does not import the UI's packages).
const uiSessionCookie = "driftless_session"

// uiClient is a logged-in visitor of the UI.
type uiClient struct {
	origin string
	jar    http.CookieJar
	// client reads pages (bounded), streams holds /events/ streams open.
	client, streams *http.Client
}

// uiLogin makes a ServiceAccount bound to cluster-admin, so that the
// overview lists everything, and logs in to the UI at origin with its
// token, retried until the UI answers.
func (e *env) uiLogin(ctx context.Context, origin string) (*uiClient, error) {
	kube := e.cluster.kube
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: fleetNamespace, Name: uiAccount}}
	if _, err := kube.CoreV1().ServiceAccounts(fleetNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create ServiceAccount %s: %w", uiAccount, err)
	}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: uiAccount},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: uiAccount, Namespace: fleetNamespace}}}
	if _, err := kube.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("bind ServiceAccount %s to cluster-admin: %w", uiAccount, err)
	}
	tr, err := kube.CoreV1().ServiceAccounts(fleetNamespace).CreateToken(ctx, uiAccount, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("token for ServiceAccount %s: %w", uiAccount, err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	u := &uiClient{origin: origin, jar: jar,
		client:  &http.Client{Jar: jar, Timeout: time.Minute},
		streams: &http.Client{Jar: jar}}
	var last error
	err = pollUntil(ctx, time.Minute, "a login to the web UI at "+origin, func() bool {
		last = u.login(ctx, tr.Status.Token)
		return last == nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w (last: %v; see controller.log in the run's directory)", err, last)
	}
	return u, nil
}

// login posts token to /login as the login form does, from the UI's own
// origin, and checks that a session cookie came back.
func (u *uiClient) login(ctx context.Context, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.origin+"/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", u.origin)
	resp, err := u.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("login: HTTP %s", resp.Status)
	}
	if u.session() == "" {
		return errors.New("login: no session cookie")
	}
	return nil
}

// session is the session cookie's value, "" before the login.
func (u *uiClient) session() string {
	o, _ := url.Parse(u.origin)
	for _, c := range u.jar.Cookies(o) {
		if c.Name == uiSessionCookie {
			return c.Value
		}
	}
	return ""
}

// get reads path with Accept-Encoding: gzip and returns the body as sent
// (gzipped when the server chose to) and the time to its last byte.
func (u *uiClient) get(ctx context.Context, path string) (body []byte, gzipped bool, took time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.origin+path, nil)
	if err != nil {
		return nil, false, 0, err
	}
	// Set by hand, the transport hands the body over as sent.
	req.Header.Set("Accept-Encoding", "gzip")
	start := time.Now()
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, false, 0, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	took = time.Since(start)
	if err != nil {
		return nil, false, 0, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, false, 0, fmt.Errorf("GET %s: HTTP %s", path, resp.Status)
	}
	return body, resp.Header.Get("Content-Encoding") == "gzip", took, nil
}

// html is the page's HTML, gunzipped when it came gzipped.
func html(body []byte, gzipped bool) ([]byte, error) {
	if !gzipped {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("gunzip the page: %w", err)
	}
	return io.ReadAll(zr)
}

// countRows counts the overview's object rows in page.
func countRows(page []byte) int { return bytes.Count(page, []byte(`<tr id="row-`)) }

// waitRows waits until the overview lists at least n rows: the UI's cache
// has caught up with the install.
func (u *uiClient) waitRows(ctx context.Context, n int, timeout time.Duration) error {
	var got int
	var last error
	err := pollUntil(ctx, timeout, fmt.Sprintf("the overview listing %d objects", n), func() bool {
		body, gz, _, err := u.get(ctx, "/")
		if err == nil {
			body, err = html(body, gz)
		}
		last = err
		got = countRows(body)
		return err == nil && got >= n
	})
	if err != nil {
		return fmt.Errorf("%w: it lists %d (last error: %v)", err, got, last)
	}
	return nil
}

// renderFigures are the overview's server render figures.
type renderFigures struct {
	p50, p95       time.Duration
	html, gzipped  int
	requests, rows int
}

// measureRender times count GET / one after another.
func (u *uiClient) measureRender(ctx context.Context, count int) (renderFigures, error) {
	f := renderFigures{requests: count}
	var ms []float64
	for range count {
		body, gz, took, err := u.get(ctx, "/")
		if err != nil {
			return f, err
		}
		page, err := html(body, gz)
		if err != nil {
			return f, err
		}
		ms = append(ms, float64(took.Microseconds())/1000)
		f.html, f.rows = len(page), countRows(page)
		f.gzipped = 0
		if gz {
			f.gzipped = len(body)
		}
	}
	p50, _ := percentile(ms, 50)
	p95, _ := percentile(ms, 95)
	f.p50, f.p95 = msDuration(p50), msDuration(p95)
	return f, nil
}

func (f renderFigures) String() string {
	gz := "not gzipped"
	if f.gzipped > 0 {
		gz = fmt.Sprintf("%s gzipped", mib(f.gzipped))
	}
	return fmt.Sprintf("render of / (%d rows, %d requests): p50 %s, p95 %s %s; HTML %s %s, %s",
		f.rows, f.requests, msText(f.p50), msText(f.p95), verdict(f.p95 <= budgetRenderP95, "≤ "+msText(budgetRenderP95)),
		mib(f.html), verdict(f.html <= budgetHTMLBytes, "≤ 2 MiB"), gz)
}

// uiStreams are overview pages' streams held open by plain HTTP clients,
// each read to the end and counted; on a resync each reads / again, as
// the page's htmx does.
type uiStreams struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	bytes  atomic.Int64
	// resyncs counts the resync events the streams got.
	resyncs atomic.Int64
	mu      sync.Mutex
	ended   []error
}

// openStreams opens count overview pages: each reads / and then holds
// /events/ open, as a browser's page does.
func (u *uiClient) openStreams(ctx context.Context, count int) (*uiStreams, error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &uiStreams{cancel: cancel}
	for i := range count {
		if _, _, _, err := u.get(ctx, "/"); err != nil {
			s.close()
			return nil, fmt.Errorf("page %d: %w", i, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.origin+"/events/", nil)
		if err != nil {
			s.close()
			return nil, err
		}
		req.Header.Set("Accept", "text/event-stream")
		resp, err := u.streams.Do(req)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("stream %d: %w", i, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			s.close()
			return nil, fmt.Errorf("stream %d: HTTP %s", i, resp.Status)
		}
		s.wg.Go(func() {
			defer resp.Body.Close()
			// As the page does, read the page anew on a resync.
			n, err := followStream(resp.Body, &s.bytes, func() {
				s.resyncs.Add(1)
				_, _, _, _ = u.get(ctx, "/")
			})
			if ctx.Err() == nil {
				s.mu.Lock()
				s.ended = append(s.ended, fmt.Errorf("stream %d ended early after %d bytes: %v", i, n, err))
				s.mu.Unlock()
			}
		})
	}
	return s, nil
}

// followStream reads a server-sent event stream to its end, adding the
// bytes read to count as they come, and calls onResync for each resync
// event (the overview's "read the whole page again"). It returns the
// bytes it read.
func followStream(r io.Reader, count *atomic.Int64, onResync func()) (int64, error) {
	br := bufio.NewReader(r)
	var total int64
	for {
		line, err := br.ReadString('\n')
		total += int64(len(line))
		count.Add(int64(len(line)))
		if strings.TrimRight(line, "\r\n") == "event: resync" {
			onResync()
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return total, err
		}
	}
}

// check fails when a stream ended while it was meant to be open.
func (s *uiStreams) check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.ended...)
}

// received is how many bytes the streams have read so far.
func (s *uiStreams) received() int64 { return s.bytes.Load() }

// close ends the streams and waits for their readers.
func (s *uiStreams) close() {
	s.cancel()
	s.wg.Wait()
}

// costFigures compare the controller during the same upgrade waves
// without and with open pages: the largest RSS sample of each wave, summed
// per kind for their mean, and CPU and wall time summed over them.
type costFigures struct {
	bareRSS, withRSS, bareCPU, withCPU, bareWall, withWall float64
	bareWaves, withWaves                                   int
	pages, kustomizations                                  int
	bytes, resyncs                                         int64
}

// add counts wave r (with pages or not) and its largest RSS sample.
func (c *costFigures) add(withPages bool, r row, rss float64) {
	if withPages {
		c.withRSS, c.withCPU, c.withWall, c.withWaves = c.withRSS+rss, c.withCPU+r.CPUSeconds, c.withWall+r.WallSeconds, c.withWaves+1
		return
	}
	c.bareRSS, c.bareCPU, c.bareWall, c.bareWaves = c.bareRSS+rss, c.bareCPU+r.CPUSeconds, c.bareWall+r.WallSeconds, c.bareWaves+1
}

func (c costFigures) String() string {
	perWave := func(sum float64, waves int) float64 { return sum / float64(max(waves, 1)) }
	withRSS, bareRSS := perWave(c.withRSS, c.withWaves), perWave(c.bareRSS, c.bareWaves)
	extra := withRSS - bareRSS
	rate := func(waves int, wall float64) float64 {
		if wall <= 0 {
			return 0
		}
		return float64(waves*c.kustomizations) / wall
	}
	bareRate, withRate := rate(c.bareWaves, c.bareWall), rate(c.withWaves, c.withWall)
	drop := 0.0
	if bareRate > 0 {
		drop = (bareRate - withRate) / bareRate * 100
	}
	bareCPU, withCPU := perWave(c.bareCPU, c.bareWaves), perWave(c.withCPU, c.withWaves)
	return fmt.Sprintf("%d open pages (%d waves with, %d without; %s streamed, %d resyncs): RSS peak %.0f MiB against %.0f MiB without (mean of the waves' largest samples), extra %+.1f MiB %s; "+
		"CPU %.1f s a wave against %.1f s, extra %+.1f s; throughput %.1f KS/s against %.1f KS/s, %.1f %% lower %s",
		c.pages, c.withWaves, c.bareWaves, mib(int(c.bytes)), c.resyncs, withRSS, bareRSS, extra, verdict(extra <= budgetExtraRSSMiB, fmt.Sprintf("≤ %.0f MiB", budgetExtraRSSMiB)),
		withCPU, bareCPU, withCPU-bareCPU,
		withRate, bareRate, drop, verdict(drop <= budgetThroughputPct, fmt.Sprintf("within %.0f %%", budgetThroughputPct)))
}

// verdict is the budget next to a figure: "(budget ≤ 100 ms: ok)".
func verdict(ok bool, budget string) string {
	if ok {
		return "(budget " + budget + ": ok)"
	}
	return "(budget " + budget + ": OVER)"
}

// ms formats d in milliseconds.
func msText(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// msDuration is a count of milliseconds as a Duration.
func msDuration(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// mib formats a byte count: KiB under a MiB.
func mib(b int) string {
	if b < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(b)/1024)
	}
	return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20))
}
