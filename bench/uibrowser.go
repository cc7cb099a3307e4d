package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// browserBinary is the browser the UI workload drives (the one
// internal/testkit/browser starts; bench is not a test, so it starts it
// itself).
const browserBinary = "chromium-headless-shell"

// browserStep bounds each step in the browser.
const browserStep = time.Minute

// uiBrowser is one headless browser.
type uiBrowser struct {
	ctx  context.Context // the first tab, which keeps the browser running
	stop func()
	once sync.Once
}

// startBrowser starts the browser; without the binary it returns nil and
// the line the table prints instead of the browser's figures.
func startBrowser(ctx context.Context) (*uiBrowser, string, error) {
	path, err := exec.LookPath(browserBinary)
	if err != nil {
		return nil, "browser: not measured (install " + browserBinary + ")", nil
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 800))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancel := chromedp.NewContext(allocCtx)
	b := &uiBrowser{ctx: bctx, stop: func() { cancel(); cancelAlloc() }}
	if err := chromedp.Do(bctx); err != nil {
		b.close()
		return nil, "", fmt.Errorf("start %s (%s): %w", browserBinary, path, err)
	}
	return b, "", nil
}

// close stops the browser, and with it every page's stream.
func (b *uiBrowser) close() { b.once.Do(b.stop) }

// setCookie gives the browser u's session.
func (b *uiBrowser) setCookie(ctx context.Context, u *uiClient) error {
	httpOnly := true
	_, err := chromedp.Call(b.ctx, network.SetCookie, network.SetCookieParams{
		Name: uiSessionCookie, Value: u.session(), URL: u.origin + "/", HTTPOnly: &httpOnly, SameSite: network.CookieSameSiteStrict})
	if err != nil {
		return fmt.Errorf("set the session cookie in the browser: %w", err)
	}
	return nil
}

// tab opens a tab; cancel closes it.
func (b *uiBrowser) tab() (context.Context, context.CancelFunc, error) {
	ctx, cancel := chromedp.NewContext(b.ctx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("open a tab: %w", err)
	}
	return ctx, cancel, nil
}

// loadTimes loads url count times, each in a fresh tab, and returns each
// load's loadEventEnd (from the navigation's start).
func (b *uiBrowser) loadTimes(ctx context.Context, url string, count int) ([]time.Duration, error) {
	var out []time.Duration
	for i := range count {
		d, err := b.loadOnce(url)
		if err != nil {
			return out, fmt.Errorf("load %d of %s: %w", i+1, url, err)
		}
		out = append(out, d)
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
	}
	return out, nil
}

func (b *uiBrowser) loadOnce(url string) (time.Duration, error) {
	tctx, cancel, err := b.tab()
	if err != nil {
		return 0, err
	}
	defer cancel()
	sctx, stop := context.WithTimeout(tctx, browserStep)
	defer stop()
	if err := chromedp.Do(sctx, chromedp.Navigate(url)); err != nil {
		return 0, err
	}
	var end float64
	// loadEventEnd is 0 until the load event's handlers are done.
	err = pollUntil(sctx, 10*time.Second, "loadEventEnd", func() bool {
		end, err = chromedp.Run(sctx, chromedp.Evaluate[float64](loadEventEndJS))
		return err == nil && end > 0
	})
	if err != nil {
		return 0, err
	}
	return msDuration(end), nil
}

const loadEventEndJS = `(function(){var n = performance.getEntriesByType('navigation')[0]; return n ? n.loadEventEnd : 0;})()`

// sseOpenJS marks the page once its stream is open (htmx' SSE extension
// fires htmx:sseOpen); it runs before the page's own scripts.
const sseOpenJS = `document.addEventListener('htmx:sseOpen', function(){ window.__benchStreamOpen = true; });`

// rowObserverJS records, per object name, the wall-clock time
// (performance.timeOrigin + performance.now(), in ms) at which its row
// first shows a Revision holding %s: rows swapped one by one, or the whole
// body read anew after a resync.
const rowObserverJS = `(function(rev){
  var seen = window.__benchSeen = {};
  function scan(root) {
    var rows = root.matches && root.matches('tr[id^="row-"]') ? [root] : (root.querySelectorAll ? Array.prototype.slice.call(root.querySelectorAll('tr[id^="row-"]')) : []);
    var t = performance.timeOrigin + performance.now();
    rows.forEach(function(tr){
      var name = tr.querySelector('td[data-label="Name"]'), r = tr.querySelector('td[data-label="Revision"]');
      if (!name || !r) return;
      var k = name.textContent.trim();
      if (!(k in seen) && r.textContent.indexOf(rev) >= 0) seen[k] = t;
    });
  }
  new MutationObserver(function(ms){ ms.forEach(function(m){ m.addedNodes.forEach(function(n){ if (n.nodeType === 1) scan(n); }); }); })
    .observe(document.body, {childList: true, subtree: true});
  return true;
})(%s)`

// streamWave runs an upgrade wave with the overview open at url, and
// notes per Kustomization the time from its new revision in the API
// (the bench's own watch) to its row showing it in the page.
func (e *env) streamWave(ctx context.Context, b *uiBrowser, url string, r row, keys []string, v int) (row, error) {
	head, err := e.commitWave(v)
	if err != nil {
		return r, err
	}
	tctx, cancel, err := b.tab()
	if err != nil {
		return r, err
	}
	defer cancel()
	if _, err := chromedp.Call(tctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: sseOpenJS}); err != nil {
		return r, fmt.Errorf("install the stream listener: %w", err)
	}
	sctx, stop := context.WithTimeout(tctx, browserStep)
	defer stop()
	if err := chromedp.Do(sctx, chromedp.Navigate(url)); err != nil {
		return r, fmt.Errorf("open %s: %w", url, err)
	}
	if err := pollUntil(sctx, 30*time.Second, "the overview's stream to open", func() bool {
		open, err := chromedp.Run(sctx, chromedp.Evaluate[bool](`window.__benchStreamOpen === true`))
		return err == nil && open
	}); err != nil {
		return r, err
	}
	short := head[:min(7, len(head))]
	quoted, _ := json.Marshal(short)
	if _, err := chromedp.Run(sctx, chromedp.Evaluate[bool](fmt.Sprintf(rowObserverJS, quoted))); err != nil {
		return r, fmt.Errorf("install the row observer: %w", err)
	}
	clock, err := e.revisionClock(ctx, short)
	if err != nil {
		return r, err
	}
	defer clock.stop()
	if r, err = e.measureWave(ctx, r, keys, head); err != nil {
		return r, err
	}
	var shown map[string]float64
	_ = pollUntil(ctx, uiStreamWait, "every row showing the new revision", func() bool {
		shown, err = chromedp.Run(tctx, chromedp.Evaluate[map[string]float64](`window.__benchSeen`))
		return err == nil && len(shown) >= len(keys)
	})
	r.Note = streamFigures(clock.times(), shown, len(keys)).String()
	return r, nil
}

// revClock notes when each Kustomization's lastAppliedRevision first
// holds a revision, from a watch.
type revClock struct {
	mu   sync.Mutex
	at   map[string]time.Time // by name
	stop context.CancelFunc
}

// revisionClock watches the fleet's Kustomizations for rev.
func (e *env) revisionClock(ctx context.Context, rev string) (*revClock, error) {
	ctx, cancel := context.WithCancel(ctx)
	c := &revClock{at: map[string]time.Time{}, stop: cancel}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(e.cluster.dynamic, 0, fleetNamespace, nil)
	inf := factory.ForResource(kustomizationsGVR()).Informer()
	note := func(obj any) {
		now := time.Now()
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return
		}
		applied, _, _ := unstructured.NestedString(u.Object, "status", "lastAppliedRevision")
		if !strings.Contains(applied, rev) {
			return
		}
		c.mu.Lock()
		if _, ok := c.at[u.GetName()]; !ok {
			c.at[u.GetName()] = now
		}
		c.mu.Unlock()
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: note, UpdateFunc: func(_, obj any) { note(obj) }}); err != nil {
		cancel()
		return nil, fmt.Errorf("watch Kustomizations: %w", err)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		cancel()
		return nil, fmt.Errorf("watch Kustomizations: cache did not sync")
	}
	return c, nil
}

// times are the notes so far, in ms since the Unix epoch by name.
func (c *revClock) times() map[string]float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]float64, len(c.at))
	for k, t := range c.at {
		out[k] = float64(t.UnixMicro()) / 1000
	}
	return out
}
