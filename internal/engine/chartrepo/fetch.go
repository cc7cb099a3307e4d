package chartrepo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Defaults of Options, the defaults of the HelmRepository's spec.timeout
// and of the controller's --helm-index-max-size and
// --helm-chart-max-size flags.
const (
	DefaultTimeout            = time.Minute
	DefaultMaxIndexSize int64 = 50 << 20
	DefaultMaxChartSize int64 = 10 << 20
	DefaultUserAgent          = "driftless"
)

// Options configure the HTTP requests to a chart repository. The zero
// value is anonymous, with the system's TLS roots and the defaults above.
type Options struct {
	// Username and Password are sent as basic auth (from secretRef) to the
	// repository's host, and to other hosts only with PassCredentials.
	Username, Password string
	// TLS is the client TLS configuration (CA, client certificate); nil
	// uses the system roots.
	TLS *tls.Config
	// Timeout bounds each FetchIndex and DownloadChart call (default
	// DefaultTimeout).
	Timeout time.Duration
	// MaxIndexSize bounds index.yaml (default DefaultMaxIndexSize).
	MaxIndexSize int64
	// MaxChartSize bounds a chart archive (default DefaultMaxChartSize).
	MaxChartSize int64
	// PassCredentials sends the credentials to chart URLs on other hosts
	// than the repository's (spec.passCredentials).
	PassCredentials bool
	// UserAgent is sent with every request (default DefaultUserAgent).
	UserAgent string
	// Transport, when set, replaces the HTTP transport built from TLS
	// (tests and proxies); nil clones http.DefaultTransport.
	Transport http.RoundTripper
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxIndexSize <= 0 {
		o.MaxIndexSize = DefaultMaxIndexSize
	}
	if o.MaxChartSize <= 0 {
		o.MaxChartSize = DefaultMaxChartSize
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	return o
}

func (o Options) client() *http.Client {
	rt := o.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if o.TLS != nil {
			t.TLSClientConfig = o.TLS.Clone()
		}
		rt = t
	}
	// Go drops the Authorization header itself when a redirect leaves the
	// host, so credentials follow redirects only within the host.
	return &http.Client{Transport: rt}
}

// FetchIndex gets <url>/index.yaml within opts.Timeout and at most
// opts.MaxIndexSize bytes, and parses it (see ParseIndex). Basic auth is
// sent when opts has a username or a password.
func FetchIndex(ctx context.Context, url string, opts Options) (*Index, error) {
	opts = opts.withDefaults()
	repo, err := parseRepoURL(url)
	if err != nil {
		return nil, err
	}
	indexURL := indexURL(repo)
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	data, err := get(ctx, indexURL.String(), opts, true, opts.MaxIndexSize, "the index")
	if err != nil {
		return nil, err
	}
	return ParseIndex(indexURL.String(), data)
}

// DownloadChart downloads the archive of entry (its first URL, resolved
// against repoURL) within opts.Timeout and at most opts.MaxChartSize
// bytes, and checks it against entry.Digest when the index gives one.
// Credentials go to the repository's own scheme, host and port, and to
// another only with opts.PassCredentials.
func DownloadChart(ctx context.Context, repoURL string, entry Entry, opts Options) ([]byte, error) {
	opts = opts.withDefaults()
	repo, err := parseRepoURL(repoURL)
	if err != nil {
		return nil, err
	}
	fail := func(kind error, u, detail string, err error) error {
		return &Error{Kind: kind, URL: u, Chart: entry.Name, Version: entry.Version, Detail: detail, Err: err}
	}
	if len(entry.URLs) == 0 {
		return nil, fail(ErrInvalidIndex, repo.String(), "the index entry has no urls", nil)
	}
	u, err := resolveChartURL(repo, entry.URLs[0])
	if err != nil {
		return nil, fail(ErrInvalidURL, repo.String(), err.Error(), nil)
	}
	sameHost := u.Scheme == repo.Scheme && u.Host == repo.Host
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	data, err := get(ctx, u.String(), opts, sameHost || opts.PassCredentials, opts.MaxChartSize, "the chart")
	if err != nil {
		if e, ok := err.(*Error); ok {
			e.Chart, e.Version = entry.Name, entry.Version
		}
		return nil, err
	}
	if want := strings.ToLower(strings.TrimPrefix(entry.Digest, "sha256:")); want != "" {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != want {
			return nil, fail(ErrDigestMismatch, u.String(),
				fmt.Sprintf("the index gives sha256 %s, the download has %s", want, got), nil)
		}
	}
	return data, nil
}

// get reads u within maxSize bytes, with credentials when auth is set;
// what names the document in errors.
func get(ctx context.Context, u string, opts Options, auth bool, maxSize int64, what string) ([]byte, error) {
	fail := func(kind error, detail string, err error) error {
		return &Error{Kind: kind, URL: u, Detail: detail, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fail(ErrInvalidURL, "", err)
	}
	req.Header.Set("User-Agent", opts.UserAgent)
	hasCreds := auth && (opts.Username != "" || opts.Password != "")
	if hasCreds {
		req.SetBasicAuth(opts.Username, opts.Password)
	}
	resp, err := opts.client().Do(req)
	if err != nil {
		kind, detail, cause := classify(err, ctx)
		if kind == ErrTimeout {
			detail = fmt.Sprintf("no answer within %s", opts.Timeout)
		}
		return nil, fail(kind, detail, cause)
	}
	defer func() { _ = resp.Body.Close() }()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		kind := ErrUnauthorized
		if resp.StatusCode == http.StatusForbidden {
			kind = ErrForbidden
		}
		return nil, fail(kind, credentialsDetail(hasCreds, auth, opts), nil)
	case http.StatusNotFound:
		return nil, fail(ErrNotFound, what+" is not at this URL (HTTP 404)", nil)
	default:
		return nil, fail(ErrServer, fmt.Sprintf("HTTP status %d", resp.StatusCode), nil)
	}
	if resp.ContentLength > maxSize {
		return nil, fail(ErrTooLarge, fmt.Sprintf("%s is %d bytes, over the maximum of %d bytes", what, resp.ContentLength, maxSize), nil)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(resp.Body, maxSize+1))
	if err != nil {
		kind, detail, cause := classify(err, ctx)
		if kind == ErrTimeout {
			detail = fmt.Sprintf("%s was not read within %s", what, opts.Timeout)
		}
		return nil, fail(kind, detail, cause)
	}
	if n > maxSize {
		return nil, fail(ErrTooLarge, fmt.Sprintf("%s is over the maximum of %d bytes", what, maxSize), nil)
	}
	return buf.Bytes(), nil
}

// credentialsDetail says whether credentials were sent, and why not.
func credentialsDetail(sent, allowed bool, opts Options) string {
	switch {
	case sent:
		return "credentials were sent and refused"
	case opts.Username != "" || opts.Password != "":
		if !allowed {
			return "no credentials were sent: the URL is on another host than the repository's (set passCredentials to send them)"
		}
	}
	return "no credentials were sent (none are configured; give username and password in secretRef)"
}
