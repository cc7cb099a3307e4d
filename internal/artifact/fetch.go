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

// FetcherOptions configures a Fetcher.
type FetcherOptions struct {
	// Client does the requests; a new http.Client when nil.
	Client *http.Client
	// Retries is the number of attempts after the first one (default 9; a
	// negative value disables retries).
	Retries int
	// RetryWaitMin and RetryWaitMax bound the exponential back-off between
	// attempts (defaults 5s and 30s).
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxDownloadSize bounds the size of the downloaded file; 0: unlimited.
	MaxDownloadSize int64
	// MaxUntarSize bounds the decompressed size of the archive; 0: unlimited.
	MaxUntarSize int64
	// MaxFiles bounds the number of archive entries; 0: unlimited.
	MaxFiles int
	// SkipLinks skips link entries instead of failing on them.
	SkipLinks bool
	// HostOverride, when set, replaces the host[:port] of every artifact URL
	// (Flux's SOURCE_CONTROLLER_LOCALHOST, for running outside the cluster).
	HostOverride string
	// TempDir is where downloads are staged; the system default when empty.
	TempDir string
}

// Fetcher downloads artifacts, verifies their digest and unpacks them.
type Fetcher struct {
	opts FetcherOptions
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
	if opts.MaxDownloadSize < 0 || opts.MaxUntarSize < 0 || opts.MaxFiles < 0 {
		return nil, errors.New("fetcher limits must not be negative")
	}
	return &Fetcher{opts: opts}, nil
}

// Fetch downloads the artifact at rawURL, checks it against digest
// ("<algo>:<hex>", any supported algorithm) and unpacks it into dir. It
// retries on network errors, 5xx (but 501), 429 and 404 answers. Nothing is
// unpacked before the digest is verified; when unpacking fails, dir may hold
// part of the archive, so callers unpack into a fresh directory.
func (f *Fetcher) Fetch(ctx context.Context, rawURL, digest, dir string) error {
	algo, _, err := ParseDigest(digest)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", rawURL, err)
	}
	u, err := f.resolve(rawURL)
	if err != nil {
		return err
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

// resolve checks the URL and applies the host override.
func (f *Fetcher) resolve(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("fetching %q: invalid URL: %w", rawURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("fetching %q: want an http or https URL", rawURL)
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", false, err
	}
	resp, err := f.opts.Client.Do(req)
	if err != nil {
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
		return "", ctx.Err() == nil, fmt.Errorf("reading the response: %w", err)
	}
	if max > 0 && d.size > max {
		return "", false, fmt.Errorf("artifact exceeds the maximum download size of %d bytes", max)
	}
	return d.Digest(), false, nil
}
