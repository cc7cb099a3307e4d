// Package browser is the test kit that drives a real browser,
// chromium-headless-shell, through the DevTools protocol (chromedp): open
// a page, record every request, console message and Content-Security-Policy
// violation it causes, read the DOM, type, and save full-page screenshots
// as test artifacts. Only tests may import it (imports_test.go).
package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/audits"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Binary is the browser the kit starts, found in PATH.
const Binary = "chromium-headless-shell"

// InstallLine is how the project installs the browser (.ci/run does it).
const InstallLine = "apt-get install -y --no-install-recommends chromium-headless-shell"

// Timeout bounds each step the kit runs in the page.
const Timeout = 30 * time.Second

// Sizes are the viewports every screenshot is taken at: a laptop and a phone.
var Sizes = []Size{{Width: 1280, Height: 800}, {Width: 390, Height: 844}}

// Size is a viewport in CSS pixels.
type Size struct{ Width, Height int64 }

func (s Size) String() string { return fmt.Sprintf("%dx%d", s.Width, s.Height) }

// Browser is one headless browser for one test; t.Cleanup stops it.
type Browser struct {
	t   testing.TB
	ctx context.Context // the browser's first tab, which keeps it running
}

// Start starts the browser, or skips the test when the binary is missing,
// with the line that installs it. Under CI=true a missing binary fails
// the test instead: CI installs it, so its absence is a broken setup.
func Start(t testing.TB) *Browser {
	t.Helper()
	path, err := find(exec.LookPath, os.Getenv("CI"))
	if err != nil {
		if errors.Is(err, errSkip) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests run as root
		chromedp.WindowSize(int(Sizes[0].Width), int(Sizes[0].Height)),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, bound to ctx
		t.Fatalf("start %s (%s): %v", Binary, path, err)
	}
	return &Browser{t: t, ctx: ctx}
}

// errSkip marks a missing binary outside CI.
var errSkip = errors.New("skip")

type skipError struct{ msg string }

func (e skipError) Error() string        { return e.msg }
func (e skipError) Is(target error) bool { return target == errSkip }

// find locates the binary with lookPath. Missing, it is an error that
// says how to install it, and that is errSkip unless ci is "true".
func find(lookPath func(string) (string, error), ci string) (string, error) {
	path, err := lookPath(Binary)
	if err == nil {
		return path, nil
	}
	msg := fmt.Sprintf("%s not found in PATH (%v); install it with: %s", Binary, err, InstallLine)
	if ci == "true" {
		return "", errors.New(msg + " (CI=true: the browser tests must run)")
	}
	return "", skipError{msg}
}

// Page is one tab and everything it recorded since it opened.
type Page struct {
	t   testing.TB
	ctx context.Context

	mu         sync.Mutex
	requests   []string
	console    []string
	errors     []string
	violations []string
}

// bindingName is the DevTools binding the violation listener reports to.
const bindingName = "__driftlessTestCSPViolation"

// violationListener runs in every document before the page's own scripts.
// It is installed through the DevTools protocol, which the page's CSP does
// not govern, and reports each securitypolicyviolation event to the kit.
const violationListener = `document.addEventListener('securitypolicyviolation', function (e) {
  ` + bindingName + `(JSON.stringify({directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample}));
});`

// NewPage opens a tab for test t (a subtest of the browser's test, or
// that test) that records from its start. It does not navigate. The tab
// closes, and its screenshots go, with t.
func (b *Browser) NewPage(t testing.TB) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	p := &Page{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatalf("open a tab: %v", err)
	}
	if err := chromedp.Listen(ctx, p.record); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	if _, err := chromedp.Call(ctx, audits.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the Audits domain: %v", err)
	}
	if _, err := chromedp.Call(ctx, runtime.AddBinding, runtime.AddBindingParams{Name: bindingName}); err != nil {
		t.Fatalf("add the violation binding: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: violationListener}); err != nil {
		t.Fatalf("install the violation listener: %v", err)
	}
	return p
}

// Open opens a tab for test t at rawURL and waits for its load event.
func (b *Browser) Open(t testing.TB, rawURL string) *Page {
	t.Helper()
	p := b.NewPage(t)
	p.Navigate(rawURL)
	return p
}

// record runs in the tab's message loop: it only appends.
func (p *Page) record(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		p.requests = append(p.requests, ev.Request.URL)
	case *runtime.EventConsoleAPICalled:
		line := fmt.Sprintf("console.%s: %s", ev.Type, argsText(ev.Args))
		p.console = append(p.console, line)
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			p.errors = append(p.errors, line)
		}
	case *runtime.EventExceptionThrown:
		line := "exception: " + exceptionText(ev.ExceptionDetails)
		p.console = append(p.console, line)
		p.errors = append(p.errors, line)
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		line := fmt.Sprintf("log %s %s: %s", e.Source, e.Level, e.Text)
		if e.URL != "" {
			line += " (" + e.URL + ")"
		}
		p.console = append(p.console, line)
		if e.Level == cdplog.EntryLevelError {
			p.errors = append(p.errors, line)
		}
		if e.Source == cdplog.EntrySourceSecurity || strings.Contains(e.Text, "Content Security Policy") {
			p.violations = append(p.violations, line)
		}
	case *audits.EventIssueAdded:
		if ev.Issue != nil && ev.Issue.Details != nil && ev.Issue.Details.ContentSecurityPolicyIssueDetails != nil {
			d := ev.Issue.Details.ContentSecurityPolicyIssueDetails
			p.violations = append(p.violations, fmt.Sprintf("audit: %s violates %s (blocked %q)", d.ContentSecurityPolicyViolationType, d.ViolatedDirective, d.BlockedURL))
		}
	case *runtime.EventBindingCalled:
		if ev.Name == bindingName {
			p.violations = append(p.violations, "securitypolicyviolation: "+ev.Payload)
		}
	}
}

func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a == nil:
		case len(a.Value) > 0:
			var s string
			if json.Unmarshal(a.Value, &s) == nil {
				parts = append(parts, s)
			} else {
				parts = append(parts, string(a.Value))
			}
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "(no details)"
	}
	text := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		text += " " + d.Exception.Description
	}
	if d.URL != "" {
		text += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber+1)
	}
	return text
}

// step runs actions with the kit's timeout, failing the test with what.
func (p *Page) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// Navigate loads rawURL in the tab and waits for its load event.
func (p *Page) Navigate(rawURL string) {
	p.t.Helper()
	p.step("navigate to "+rawURL, chromedp.Navigate(rawURL))
}

// Reload reloads the page and waits for its load event.
func (p *Page) Reload() {
	p.t.Helper()
	p.step("reload", waitLoad(chromedp.Reload()))
}

// URL is the page's current address.
func (p *Page) URL() string {
	p.t.Helper()
	return run(p, "read the location", chromedp.Location())
}

// Text is the text content of the first element matching the CSS
// selector, waiting for it to exist.
func (p *Page) Text(selector string) string {
	p.t.Helper()
	return run(p, "text of "+selector, chromedp.TextContent(chromedp.CSS(selector)))
}

// Count is how many elements match the CSS selector now, without waiting.
func (p *Page) Count(selector string) int {
	p.t.Helper()
	return Evaluate[int](p, "document.querySelectorAll("+quote(p.t, selector)+").length")
}

// quote is s as a JavaScript string literal.
func quote(t testing.TB, s string) string {
	t.Helper()
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

// Type clears the input matching the CSS selector and types text into it
// as key presses.
func (p *Page) Type(selector, text string) {
	p.t.Helper()
	sel := chromedp.CSS(selector)
	p.step("wait for "+selector, chromedp.WaitReady(sel))
	// chromedp's SetValue refuses "", so the field is cleared by evaluation.
	if !Evaluate[bool](p, "(e => e ? (e.value = '', true) : false)(document.querySelector("+quote(p.t, selector)+"))") {
		p.t.Fatalf("type into %s: no such element", selector)
	}
	p.step("type into "+selector, chromedp.Focus(sel), chromedp.SendKeys(sel, text))
}

// Submit submits the form of the element matching the CSS selector and
// waits for the page it leads to.
func (p *Page) Submit(selector string) {
	p.t.Helper()
	p.step("submit the form of "+selector, waitLoad(chromedp.Submit(chromedp.CSS(selector))))
}

// Click clicks the element matching the CSS selector and waits for the
// page it leads to.
func (p *Page) Click(selector string) {
	p.t.Helper()
	p.step("click "+selector, waitLoad(chromedp.Click(chromedp.CSS(selector))))
}

// waitLoad runs trigger and waits for the load event that follows it.
func waitLoad(trigger chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	wait := chromedp.WaitEvent(page.LoadEventFired, nil, trigger)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := wait(ctx, t)
		return chromedp.Void{}, err
	}
}

// Evaluate runs expression in the page through the DevTools protocol (so
// the page's CSP does not apply) and decodes its value into T.
func Evaluate[T any](p *Page, expression string) T {
	p.t.Helper()
	return run(p, "evaluate "+expression, chromedp.Evaluate[T](expression))
}

func run[T any](p *Page, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// Requests are the URLs of every request the tab sent, in order.
func (p *Page) Requests() []string { return p.snapshot(&p.requests) }

// Console is every console message, uncaught exception and browser log
// entry, in order.
func (p *Page) Console() []string { return p.snapshot(&p.console) }

// Errors are the console errors, exceptions and error log entries.
func (p *Page) Errors() []string { return p.snapshot(&p.errors) }

// Violations are the Content-Security-Policy violations, as the page's
// securitypolicyviolation event, the Audits domain and the log report them
// (one violation can appear up to three times).
func (p *Page) Violations() []string { return p.snapshot(&p.violations) }

func (p *Page) snapshot(s *[]string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), *s...)
}

// settle lets the events the browser sent before now reach the recorder:
// a command's answer comes after every event sent before it.
func (p *Page) settle() {
	p.t.Helper()
	_ = Evaluate[int](p, "0")
}

// Foreign are the requests to any origin but origin (scheme://host:port),
// data: URLs excepted (they never leave the browser).
func (p *Page) Foreign(origin string) []string {
	p.t.Helper()
	p.settle()
	var out []string
	for _, r := range p.Requests() {
		u, err := url.Parse(r)
		if err == nil && u.Scheme == "data" {
			continue
		}
		if err != nil || u.Scheme+"://"+u.Host != origin {
			out = append(out, r)
		}
	}
	return out
}

// CheckClean fails the test unless every request went to origin and the
// page had no CSP violation and no console error: the "offline" promise.
func (p *Page) CheckClean(origin string) {
	p.t.Helper()
	for _, r := range p.Foreign(origin) {
		p.t.Errorf("request to another origin than %s: %s", origin, r)
	}
	for _, v := range p.Violations() {
		p.t.Errorf("CSP violation: %s", v)
	}
	for _, e := range p.Errors() {
		p.t.Errorf("console error: %s", e)
	}
	if len(p.Requests()) == 0 {
		p.t.Errorf("no request recorded: the recorder is not listening")
	}
}

// Screenshots saves full-page PNGs of the page at every size in Sizes as
// <repo>/.cache/test-artifacts/web/<TestName>/<name>-<size>.png, logs
// their paths and returns them. The viewport is back at the first size
// afterwards.
func (p *Page) Screenshots(name string) []string {
	p.t.Helper()
	dir := ArtifactDir(p.t)
	var paths []string
	for _, s := range append(Sizes, Sizes[0]) {
		p.step("set the viewport to "+s.String(), chromedp.EmulateViewport(s.Width, s.Height))
		if len(paths) == len(Sizes) {
			break // back at the first size
		}
		png := run(p, "screenshot at "+s.String(), chromedp.FullScreenshot(100))
		path := filepath.Join(dir, fmt.Sprintf("%s-%s.png", name, s))
		if err := os.WriteFile(path, png, 0o644); err != nil {
			p.t.Fatalf("save screenshot: %v", err)
		}
		p.t.Logf("screenshot %s", path)
		paths = append(paths, path)
	}
	return paths
}

// ArtifactDir is <repo>/.cache/test-artifacts/web/<TestName>, created.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, ".cache", "test-artifacts", "web", safeName(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("create the artifact directory: %v", err)
	}
	return dir
}

// safeName makes a test name one path element.
func safeName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, name)
}

// repoRoot is the nearest directory above the working directory with a
// go.mod, which for a test is the module root.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the repository root: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find the repository root: no go.mod above %s", dir)
		}
	}
}
