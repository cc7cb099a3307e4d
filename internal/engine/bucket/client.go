package bucket

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Providers served by this package. gcp and azure never reach it: the
// controller stalls them with the supported route in the message.
const (
	ProviderGeneric = "generic"
	ProviderAWS     = "aws"
)

// Config is what the controller derives from a Bucket and its Secrets.
type Config struct {
	// Provider is "generic" (any S3-compatible server) or "aws". Empty
	// means generic.
	Provider string
	// BucketName, Endpoint (host[:port]), Region and Prefix come from the
	// spec as they are.
	BucketName, Endpoint, Region, Prefix string
	// Insecure selects plain HTTP.
	Insecure bool
	// AccessKey and SecretKey come from secretRef; both empty means
	// anonymous access to a public bucket.
	AccessKey, SecretKey string
	// TLS comes from certSecretRef (CA, optional client certificate); nil
	// means the system roots.
	TLS *tls.Config
	// Proxy comes from proxySecretRef, user info included; nil means the
	// proxy of the controller's environment, as for every other source.
	Proxy *url.URL
	// STS, when set, exchanges LDAP credentials for temporary keys.
	STS *STS
	// Timeout bounds Index and Fetch each (0: the caller's context only).
	Timeout time.Duration
	// PageSize is the listing page size (0: the server's default, 1000
	// on S3); tests set it small to prove every page is followed.
	PageSize int
	// MaxDownloadSize bounds the bytes one Fetch writes (the controller's
	// --artifact-max-size). Index checks the sizes the listing reports,
	// but a server may serve objects larger than it lists them; 0 means
	// no bound.
	MaxDownloadSize int64
}

// STS is the sts block with the provider ldap, resolved from its Secrets.
type STS struct {
	// Provider must be "ldap" here; aws STS needs cloud identity and the
	// controller stalls it.
	Provider string
	// Endpoint is the STS URL (http or https).
	Endpoint string
	// Username and Password come from sts.secretRef.
	Username, Password string
	// TLS comes from sts.certSecretRef; nil means the system roots.
	TLS *tls.Config
}

// maxRetries bounds minio-go's retries of one request (its default is 10,
// about 8 s of back-off even for an unknown CA or HTTP to an HTTPS port):
// the controller retries the whole pass with its own back-off, and a
// permanent error should reach the Bucket's status quickly.
const maxRetries = 3

// Client reads one bucket. It is cheap to build; the controller builds one
// per reconcile from the current spec and Secrets.
type Client struct {
	s3       *minio.Client
	endpoint string
	bucket   string
	prefix   string
	timeout  time.Duration
	// maxDownload is Config.MaxDownloadSize.
	maxDownload int64
	pageSize    int
	insecure    bool
	secrets     []string
}

// ValidateEndpoint checks that endpoint is host[:port]: a scheme or a path
// is refused with a message giving the expected form and saying that
// insecure: true means HTTP (a common mistake is "http://minio:9000").
func ValidateEndpoint(endpoint string, insecure bool) error {
	bad := func(reason string) error { return &EndpointError{Endpoint: endpoint, Reason: reason} }
	switch {
	case endpoint == "":
		return bad("it is empty")
	case strings.Contains(endpoint, "://"):
		scheme, _, _ := strings.Cut(endpoint, "://")
		if strings.EqualFold(scheme, "http") && !insecure {
			return bad("it has the scheme http:// (remove it and set insecure: true for plain HTTP)")
		}
		return bad("it has the scheme " + scheme + "://")
	case strings.ContainsAny(endpoint, "/?#"):
		return bad("it has a path")
	case strings.ContainsAny(endpoint, " \t\r\n@"):
		return bad("it contains a space or user info")
	}
	host := endpoint
	if h, port, err := net.SplitHostPort(endpoint); err == nil {
		if port == "" {
			return bad("the port is empty")
		}
		for _, r := range port {
			if r < '0' || r > '9' {
				return bad("the port is not a number")
			}
		}
		host = h
	} else if strings.Count(endpoint, ":") == 1 {
		return bad(err.Error())
	}
	if host == "" {
		return bad("the host is empty")
	}
	return nil
}

// New checks cfg and builds a Client. It never reads credentials from the
// environment: with provider aws and no keys it refuses, since the
// controller's own identity would serve every tenant.
func New(cfg Config) (*Client, error) {
	provider := cfg.Provider
	if provider == "" {
		provider = ProviderGeneric
	}
	switch provider {
	case ProviderGeneric:
	case ProviderAWS:
		if cfg.AccessKey == "" || cfg.SecretKey == "" {
			return nil, &ProviderError{Message: "provider aws: cloud identity (IRSA, EKS Pod Identity, instance profile, " +
				"the controller's own AWS credentials) is not supported; set secretRef to a Secret with accesskey and secretkey"}
		}
		if cfg.STS != nil {
			return nil, &ProviderError{Message: "provider aws: sts needs cloud identity, which is not supported; " +
				"set secretRef to a Secret with accesskey and secretkey"}
		}
	default:
		return nil, &ProviderError{Message: fmt.Sprintf("provider %q is not supported by the S3 client (use generic or aws)", provider)}
	}
	if cfg.BucketName == "" {
		return nil, fmt.Errorf("bucketName is empty")
	}
	if err := ValidateEndpoint(cfg.Endpoint, cfg.Insecure); err != nil {
		return nil, err
	}
	if (cfg.AccessKey == "") != (cfg.SecretKey == "") {
		missing := "secretkey"
		if cfg.AccessKey == "" {
			missing = "accesskey"
		}
		return nil, fmt.Errorf("the credentials have no %s: give both accesskey and secretkey, or neither for anonymous access", missing)
	}
	c := &Client{
		endpoint: cfg.Endpoint, bucket: cfg.BucketName, prefix: cfg.Prefix,
		timeout: cfg.Timeout, pageSize: cfg.PageSize, maxDownload: cfg.MaxDownloadSize, insecure: cfg.Insecure,
	}
	c.secrets = append(c.secrets, cfg.SecretKey)
	if cfg.Proxy != nil && cfg.Proxy.User != nil {
		if p, ok := cfg.Proxy.User.Password(); ok {
			c.secrets = append(c.secrets, p)
		}
	}
	transport, err := newTransport(!cfg.Insecure, cfg.TLS, cfg.Proxy)
	if err != nil {
		return nil, err
	}
	creds := credentials.NewStatic(cfg.AccessKey, cfg.SecretKey, "", credentials.SignatureV4)
	if cfg.AccessKey == "" {
		creds = credentials.NewStatic("", "", "", credentials.SignatureAnonymous)
	}
	if cfg.STS != nil {
		if creds, err = stsCredentials(cfg.STS, cfg.Proxy); err != nil {
			return nil, err
		}
		c.secrets = append(c.secrets, cfg.STS.Password)
	}
	s3, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        creds,
		Secure:       !cfg.Insecure,
		Region:       cfg.Region,
		Transport:    transport,
		BucketLookup: minio.BucketLookupAuto,
		MaxRetries:   maxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("endpoint %s, bucket %q: creating the S3 client: %s", cfg.Endpoint, cfg.BucketName, c.redact(err.Error()))
	}
	c.s3 = s3
	return c, nil
}

// newTransport returns minio-go's default transport with the TLS settings
// and the proxy of the Bucket.
func newTransport(secure bool, tlsConfig *tls.Config, proxy *url.URL) (*http.Transport, error) {
	t, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("creating the HTTP transport: %w", err)
	}
	if tlsConfig != nil {
		t.TLSClientConfig = tlsConfig.Clone()
		if t.TLSClientConfig.MinVersion == 0 {
			t.TLSClientConfig.MinVersion = tls.VersionTLS12
		}
	}
	if proxy != nil {
		t.Proxy = http.ProxyURL(proxy)
	}
	return t, nil
}

// stsCredentials returns minio-go's LDAP identity for s, talking to the
// STS endpoint with its own TLS settings and the Bucket's proxy.
func stsCredentials(s *STS, proxy *url.URL) (*credentials.Credentials, error) {
	if s.Provider != "ldap" {
		return nil, &STSError{Message: fmt.Sprintf("sts provider %q is not supported with provider generic (use ldap)", s.Provider)}
	}
	u, err := url.Parse(s.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &STSError{URLInvalid: true,
			Message: fmt.Sprintf("invalid sts endpoint %q: want an http:// or https:// URL with a host", s.Endpoint)}
	}
	if s.Username == "" || s.Password == "" {
		return nil, &STSError{Message: "sts provider ldap needs username and password in sts.secretRef"}
	}
	t, err := newTransport(u.Scheme == "https", s.TLS, proxy)
	if err != nil {
		return nil, err
	}
	return credentials.New(&credentials.LDAPIdentity{
		Client:       &http.Client{Transport: t},
		STSEndpoint:  s.Endpoint,
		LDAPUsername: s.Username,
		LDAPPassword: s.Password,
	}), nil
}
