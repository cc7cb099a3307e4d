package bucket

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// EndpointError is an endpoint that is not host[:port]. The controller
// reports it as URLInvalid and stalls: retrying cannot fix a spec.
type EndpointError struct {
	Endpoint string
	Reason   string
}

// Error says what is wrong and what to change.
func (e *EndpointError) Error() string {
	return fmt.Sprintf("invalid endpoint %q: %s; the endpoint is host[:port] (for example s3.example.com or 10.0.0.5:9000) "+
		"without a scheme or a path, and insecure: true means plain HTTP", e.Endpoint, e.Reason)
}

// ProviderError is a provider configuration this package does not serve
// (an unknown provider, or aws without static keys, which would need cloud
// identity). The controller reports it as InvalidProviderConfiguration.
type ProviderError struct{ Message string }

// Error says what is wrong and what to change.
func (e *ProviderError) Error() string { return e.Message }

// STSError is an unusable sts configuration. URLInvalid is true when the
// endpoint does not parse as an http(s) URL (Flux's URLInvalid); otherwise
// the controller reports InvalidSTSConfiguration.
type STSError struct {
	Message    string
	URLInvalid bool
}

// Error says what is wrong and what to change.
func (e *STSError) Error() string { return e.Message }

// AuthError is the server refusing the credentials or the access. Code is
// what the server answered (InvalidAccessKeyId, SignatureDoesNotMatch,
// AccessDenied, or an STS error), so the message can say which.
type AuthError struct {
	Endpoint, Bucket, Code string
	// STS is true when the STS endpoint refused the LDAP credentials.
	STS bool
	err error
}

// Error says what is wrong and what to change.
func (e *AuthError) Error() string {
	if e.STS {
		return fmt.Sprintf("endpoint %s, bucket %q: the STS endpoint refused the LDAP credentials with %s; check username and password in sts.secretRef",
			e.Endpoint, e.Bucket, e.Code)
	}
	hint := "check the access key and secret key"
	switch e.Code {
	case "InvalidAccessKeyId", "XAdminUserNotFound":
		hint = "the access key is unknown to the server: check accesskey in the Secret"
	case "SignatureDoesNotMatch":
		hint = "the secret key does not match the access key: check secretkey in the Secret"
	case "AccessDenied":
		hint = "the credentials (or anonymous access) may not read this bucket: check the keys and the bucket policy"
	}
	return fmt.Sprintf("endpoint %s, bucket %q: the server refused the request with %s (%s)", e.Endpoint, e.Bucket, e.Code, hint)
}

// Unwrap gives the server's answer to errors.As.
func (e *AuthError) Unwrap() error { return e.err }

// BucketNotFoundError is a bucket the server does not have.
type BucketNotFoundError struct{ Endpoint, Bucket string }

// Error says what is wrong and what to change.
func (e *BucketNotFoundError) Error() string {
	return fmt.Sprintf("endpoint %s: bucket %q does not exist; check bucketName (and region)", e.Endpoint, e.Bucket)
}

// UnsafeKeyError is an object key that cannot be written as a file safely.
type UnsafeKeyError struct{ Key, Reason string }

// Error says what is wrong and what to change.
func (e *UnsafeKeyError) Error() string {
	return fmt.Sprintf("object key %s cannot be written safely: %s; exclude it with spec.ignore or rename the object", quote(e.Key), e.Reason)
}

// LimitError is a listing over the object count or total size cap, refused
// before any download.
type LimitError struct {
	Endpoint, Bucket string
	Files            int
	MaxFiles         int
	Size, MaxSize    int64
}

// Error says what is wrong and what to change.
func (e *LimitError) Error() string {
	if e.MaxFiles > 0 && e.Files > e.MaxFiles {
		return fmt.Sprintf("endpoint %s, bucket %q: %d objects exceed the limit of %d files; narrow the prefix, exclude objects with spec.ignore or raise --artifact-max-files",
			e.Endpoint, e.Bucket, e.Files, e.MaxFiles)
	}
	return fmt.Sprintf("endpoint %s, bucket %q: the objects total %d bytes, over the limit of %d bytes; narrow the prefix, exclude objects with spec.ignore or raise --artifact-max-size",
		e.Endpoint, e.Bucket, e.Size, e.MaxSize)
}

// IsAuthenticationFailed reports whether err is the server refusing the
// credentials (Flux's AuthenticationFailed).
func IsAuthenticationFailed(err error) bool {
	var a *AuthError
	return errors.As(err, &a)
}

// IsBucketNotFound reports whether err is a missing bucket.
func IsBucketNotFound(err error) bool {
	var b *BucketNotFoundError
	return errors.As(err, &b)
}

// IsInvalidEndpoint reports whether err is an endpoint that is not host[:port].
func IsInvalidEndpoint(err error) bool {
	var e *EndpointError
	return errors.As(err, &e)
}

// IsInvalidProvider reports whether err is an unsupported provider setup.
func IsInvalidProvider(err error) bool {
	var e *ProviderError
	return errors.As(err, &e)
}

// IsInvalidSTSConfiguration reports whether err is an unusable sts block
// (including an unparsable STS endpoint; see STSError.URLInvalid).
func IsInvalidSTSConfiguration(err error) bool {
	var e *STSError
	return errors.As(err, &e)
}

// IsSTSURLInvalid reports whether err is an STS endpoint that does not parse.
func IsSTSURLInvalid(err error) bool {
	var e *STSError
	return errors.As(err, &e) && e.URLInvalid
}

// IsUnsafeKey reports whether err is a key that cannot be written safely.
func IsUnsafeKey(err error) bool {
	var e *UnsafeKeyError
	return errors.As(err, &e)
}

// IsLimitExceeded reports whether err is a listing over the limits.
func IsLimitExceeded(err error) bool {
	var e *LimitError
	return errors.As(err, &e)
}

// authCodes are the S3 error codes that mean the credentials or the access
// were refused.
var authCodes = map[string]bool{
	"InvalidAccessKeyId": true,
	// versitygw without an IAM service answers an unknown access key so.
	"XAdminUserNotFound":    true,
	"SignatureDoesNotMatch": true,
	"AccessDenied":          true,
	"InvalidToken":          true,
	"ExpiredToken":          true,
	"InvalidSecurity":       true,
}

// opError wraps an error with the operation, endpoint and bucket, and with
// every credential of the client scrubbed from the message.
type opError struct {
	msg string
	err error
}

// Error is the redacted message with its context.
func (e *opError) Error() string { return e.msg }

// Unwrap keeps the cause for errors.Is and errors.As.
func (e *opError) Unwrap() error { return e.err }

// wrap classifies err (authentication, missing bucket) and adds context;
// it returns nil for nil.
func (c *Client) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.As(err, new(*AuthError)), errors.As(err, new(*BucketNotFoundError)),
		errors.As(err, new(*UnsafeKeyError)), errors.As(err, new(*LimitError)):
		return err
	}
	var stsErr credentials.ErrorResponse
	if errors.As(err, &stsErr) {
		return &AuthError{Endpoint: c.endpoint, Bucket: c.bucket, Code: stsErr.STSError.Code, STS: true, err: err}
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchBucket":
		return &BucketNotFoundError{Endpoint: c.endpoint, Bucket: c.bucket}
	case authCodes[resp.Code]:
		return &AuthError{Endpoint: c.endpoint, Bucket: c.bucket, Code: resp.Code, err: err}
	}
	msg := fmt.Sprintf("endpoint %s, bucket %q: %s: %v", c.endpoint, c.bucket, op, err)
	if h := c.hint(err, resp.Code); h != "" {
		msg += " (" + h + ")"
	}
	return &opError{msg: c.redact(msg), err: err}
}

// hint says what to change for the mistakes that produce cryptic errors:
// the wrong region, an unknown CA, HTTP against HTTPS and the reverse.
func (c *Client) hint(err error, code string) string {
	var unknownCA x509.UnknownAuthorityError
	msg := err.Error()
	switch {
	case code == "AuthorizationHeaderMalformed" && strings.Contains(msg, "region"):
		return "check spec.region"
	case errors.As(err, &unknownCA), strings.Contains(msg, "certificate signed by unknown authority"):
		return "the server's certificate is not signed by a trusted CA: put that CA as ca.crt in certSecretRef"
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return "the endpoint speaks plain HTTP: set insecure: true, or serve HTTPS"
	case c.insecure && (strings.Contains(msg, "Connection closed by foreign host") || strings.Contains(msg, "malformed HTTP response")):
		return "the endpoint may speak HTTPS only: remove insecure: true"
	}
	return ""
}

// redact removes every secret the client holds from s.
func (c *Client) redact(s string) string {
	for _, secret := range c.secrets {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "<redacted>")
		}
	}
	return s
}
