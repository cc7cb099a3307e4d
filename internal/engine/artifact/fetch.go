package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

// Defaults of the fetcher options, as in Flux's consumers (--http-retry).
const (
	DefaultRetries      = 9
	DefaultRetryWaitMin = 5 * time.Second
	DefaultRetryWaitMax = 30 * time.Second
)

// Default bounds of a fetch. Flux's kustomize-controller fetches without any
// (it lifts its tar library's 100 MiB default, which real repositories with
// vendored charts and CRD bundles do reach), so an artifact URL pointing at
// a gzip bomb fills the consumer's disk. Driftless bounds every fetch, with
// defaults well above any manifest repository.
const (
	// DefaultMaxUntarSize bounds the decompressed tar stream: ten times the
	// 100 MiB that Flux's tar library defaults to and users outgrew, while a
	// gzip bomb (ratios of 1000:1) stops after 1 GiB on disk.
	DefaultMaxUntarSize int64 = 1 << 30
	// DefaultMaxDownloadSize equals DefaultMaxUntarSize: a gzip stream is
	// never meaningfully larger than what it expands to, so a bigger file
	// could not unpack within the untar bound anyway and is refused before
	// it is written to disk.
	DefaultMaxDownloadSize = DefaultMaxUntarSize
	// DefaultMaxFiles bounds the archive entries: a bomb of empty files
	// costs 512 bytes of tar header each, so the size bound alone would let
	// two million inodes through. Large monorepos hold tens of thousands of
	// files.
	DefaultMaxFiles = 100_000
	// DefaultTimeout bounds one download attempt, the body included, so that
	// a server that accepts and never answers does not hold a worker forever.
	// Helm-controller's --http-timeout is 30s for charts of at most 10 MiB;
	// Kustomization artifacts are whole repositories, so twice that. The
	// largest artifact DefaultMaxDownloadSize allows then needs about 17 MB/s,
	// which in-cluster traffic exceeds by far.
	DefaultTimeout = 60 * time.Second
)

// FetcherOptions configures a Fetcher.
type FetcherOptions struct {
	// Client does the requests; a new http.Client when nil. The fetcher uses
	// a copy of it, its redirect policy wrapped by the URL pinning.
	Client *http.Client
	// Retries is the number of attempts after the first one (default 9; a
	// negative value disables retries).
	Retries int
	// RetryWaitMin and RetryWaitMax bound the exponential back-off between
	// attempts (defaults 5s and 30s).
	RetryWaitMin, RetryWaitMax time.Duration
	// Timeout bounds each attempt, from the request to the last byte of the
	// body (default DefaultTimeout; negative: no bound beyond the context).
	Timeout time.Duration
	// MaxDownloadSize bounds the size of the downloaded file (default
	// DefaultMaxDownloadSize; negative: unlimited).
	MaxDownloadSize int64
	// MaxUntarSize bounds the decompressed size of the archive (default
	// DefaultMaxUntarSize; negative: unlimited).
	MaxUntarSize int64
	// MaxFiles bounds the number of archive entries (default
	// DefaultMaxFiles; negative: unlimited).
	MaxFiles int
	// SkipLinks skips link entries instead of failing on them.
	SkipLinks bool
	// AllowedURLPrefixes pins artifact URLs to the artifact servers the
	// controller trusts, since a URL comes from a source's status, which a
	// tenant may forge. Each entry is in the form of --storage-adv-addr:
	// host[:port] (plain http) or http(s)://host[:port][/path]. When set,
	// Fetch refuses, with a *URLNotAllowedError, a URL whose scheme, host
	// and port (default ports made explicit, host case and a trailing dot
	// ignored) match no entry, or whose path is not under the entry's path;
	// redirects must stay on an allowed server or the one first asked.
	// Empty: any http or https URL. URLs with credentials are always refused.
	AllowedURLPrefixes []string
	// HostOverride, when set, replaces the host[:port] of every artifact URL
	// (Flux's SOURCE_CONTROLLER_LOCALHOST, for running outside the cluster).
	// It applies after the URL was checked against AllowedURLPrefixes.
	HostOverride string
	// TempDir is where downloads are staged; the system default when empty.
	TempDir string
}

// Fetcher downloads artifacts, verifies their digest and unpacks them.
type Fetcher struct {
	opts    FetcherOptions
	client  *http.Client // opts.Client with the pinned redirect policy
	allowed []allowedPrefix
}

// NotFoundError is returned when the artifact server kept answering 404 (the
// file may not have been written yet; Flux treats this as transient).
type NotFoundError struct{ URL string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("artifact %s: file not found", e.URL) }

// DigestMismatchError is returned when the downloaded file does not match the
// expected digest.
type DigestMismatchError struct{ URL, Expected, Actual string }

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("artifact %s: digest mismatch: expected %s, got %s", e.URL, e.Expected, e.Actual)
}

// NewFetcher returns a Fetcher with the defaults filled in.
func NewFetcher(opts FetcherOptions) (*Fetcher, error) {
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	switch {
	case opts.Retries == 0:
		opts.Retries = DefaultRetries
	case opts.Retries < 0:
		opts.Retries = 0
	}
	if opts.RetryWaitMin <= 0 {
		opts.RetryWaitMin = DefaultRetryWaitMin
	}
	if opts.RetryWaitMax <= 0 {
		opts.RetryWaitMax = DefaultRetryWaitMax
	}
	if opts.RetryWaitMax < opts.RetryWaitMin {
		return nil, fmt.Errorf("retry wait maximum %s is below the minimum %s", opts.RetryWaitMax, opts.RetryWaitMin)
	}
	opts.MaxDownloadSize = orDefault(opts.MaxDownloadSize, DefaultMaxDownloadSize)
	opts.MaxUntarSize = orDefault(opts.MaxUntarSize, DefaultMaxUntarSize)
	opts.MaxFiles = int(orDefault(int64(opts.MaxFiles), DefaultMaxFiles))
	opts.Timeout = time.Duration(orDefault(int64(opts.Timeout), int64(DefaultTimeout)))
	allowed, err := parseAllowedPrefixes(opts.AllowedURLPrefixes)
	if err != nil {
		return nil, err
	}
	f := &Fetcher{opts: opts, allowed: allowed}
	client := *opts.Client
	client.CheckRedirect = f.checkRedirect(opts.Client.CheckRedirect)
	f.client = &client
	return f, nil
}

// orDefault maps a limit option to its value: 0 is the default, a negative
// value is unlimited (0 for the code below).
func orDefault(v, def int64) int64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// Fetch downloads the artifact at rawURL, checks it against digest
// ("<algo>:<hex>", any supported algorithm) and unpacks it into dir. It
// retries on network errors, 5xx (but 501), 429 and 404 answers. Nothing is
// unpacked before the digest is verified; when unpacking fails, dir may hold
// part of the archive, so callers unpack into a fresh directory.
func (f *Fetcher) Fetch(ctx context.Context, rawURL, digest, dir string) error {
	u, err := f.resolve(rawURL)
	if err != nil {
		return err
	}
	algo, _, err := ParseDigest(digest)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", u, err)
	}
	tmp, err := os.CreateTemp(f.opts.TempDir, "artifact-*.tar.gz")
	if err != nil {
		return fmt.Errorf("fetching %s: %w", u, storageError(err))
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	got, err := f.download(ctx, u, tmp, algo)
	if err != nil {
		return err
	}
	if got != digest {
		return &DigestMismatchError{URL: u, Expected: digest, Actual: got}
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("fetching %s: %w", u, err)
	}
	err = Untar(tmp, dir, UntarOptions{MaxSize: f.opts.MaxUntarSize, MaxFiles: f.opts.MaxFiles, SkipLinks: f.opts.SkipLinks})
	if err != nil {
		return fmt.Errorf("unpacking %s into %s: %w", u, dir, err)
	}
	return nil
}

// resolve checks the URL, against the pinning too, and applies the host
// override.
func (f *Fetcher) resolve(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("fetching %q: invalid URL: %w", rawURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("fetching %q: want an http or https URL", u.Redacted())
	}
	if err := f.checkURL(u); err != nil {
		return "", err
	}
	if f.opts.HostOverride != "" {
		u.Host = f.opts.HostOverride
	}
	return u.String(), nil
}

// download fetches u into tmp with retries and returns the digest of the
// body.
func (f *Fetcher) download(ctx context.Context, u string, tmp *os.File, algo string) (string, error) {
	wait := f.opts.RetryWaitMin
	for attempt := 0; ; attempt++ {
		got, retry, err := f.attempt(ctx, u, tmp, algo)
		if err == nil {
			return got, nil
		}
		if !retry || attempt >= f.opts.Retries {
			if attempt > 0 {
				return "", fmt.Errorf("fetching %s: giving up after %d attempts: %w", u, attempt+1, err)
			}
			return "", fmt.Errorf("fetching %s: %w", u, err)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return "", fmt.Errorf("fetching %s: %w (last error: %v)", u, ctx.Err(), err)
		case <-timer.C:
		}
		wait = min(2*wait, f.opts.RetryWaitMax)
	}
}

// attempt makes one request. retry tells whether a failure is transient.
func (f *Fetcher) attempt(ctx context.Context, u string, tmp *os.File, algo string) (digest string, retry bool, err error) {
	if err := tmp.Truncate(0); err != nil {
		return "", false, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", false, err
	}
	actx, cancel := ctx, context.CancelFunc(func() {})
	if f.opts.Timeout > 0 {
		actx, cancel = context.WithTimeout(ctx, f.opts.Timeout)
	}
	defer cancel()
	// timedOut tells an attempt that ran out of its own time (transient: the
	// next attempt may find the server well) from the caller giving up.
	timedOut := func() bool {
		return ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded)
	}
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u, nil)
	if err != nil {
		return "", false, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		var pinned *URLNotAllowedError
		switch {
		case errors.As(err, &pinned):
			return "", false, pinned
		case errors.Is(err, errURLCredentials):
			// Not the client's error: it quotes the redirect's password.
			return "", false, errors.Unwrap(err)
		case timedOut():
			return "", true, f.timeoutError(u)
		}
		return "", ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound:
		return "", true, &NotFoundError{URL: u}
	case resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		return "", true, fmt.Errorf("server answered %s", resp.Status)
	default:
		return "", false, fmt.Errorf("server answered %s", resp.Status)
	}
	max := f.opts.MaxDownloadSize
	if max > 0 && resp.ContentLength > max {
		return "", false, fmt.Errorf("artifact of %d bytes exceeds the maximum download size of %d bytes", resp.ContentLength, max)
	}
	d, err := newDigester(algo)
	if err != nil {
		return "", false, err
	}
	body := io.Reader(resp.Body)
	if max > 0 {
		body = io.LimitReader(resp.Body, max+1)
	}
	if _, err := io.Copy(io.MultiWriter(tmp, d), body); err != nil {
		if werr := storageError(err); werr != err {
			return "", false, werr
		}
		if timedOut() {
			return "", true, f.timeoutError(u)
		}
		return "", ctx.Err() == nil, fmt.Errorf("reading the response: %w", err)
	}
	if max > 0 && d.size > max {
		return "", false, fmt.Errorf("artifact exceeds the maximum download size of %d bytes", max)
	}
	return d.Digest(), false, nil
}

func (f *Fetcher) timeoutError(u string) error {
	return fmt.Errorf("artifact download from %s timed out after %s", u, f.opts.Timeout)
}
