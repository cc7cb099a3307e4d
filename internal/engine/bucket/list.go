package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/driftless/driftless/internal/engine/ignore"
)

// Limits caps what Index accepts, so a huge bucket is refused before any
// download. Zero means no limit.
type Limits struct {
	// MaxFiles is --artifact-max-files.
	MaxFiles int
	// MaxSize is --artifact-max-size, compared with the listed sizes' sum.
	MaxSize int64
}

// withTimeout bounds ctx by the client's timeout.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout > 0 {
		return context.WithTimeout(ctx, c.timeout)
	}
	return context.WithCancel(ctx)
}

// Index lists the objects that make up the artifact: it checks that the
// bucket exists, reads .sourceignore at the bucket root, lists every page
// under the prefix, skips "directory" keys (ending in /) and the root
// .sourceignore, drops what the default exclusions, .sourceignore and then
// specIgnore (spec.ignore, "" when unset) exclude, applies limits and
// refuses keys that cannot be written safely. It downloads no object other
// than .sourceignore.
func (c *Client) Index(ctx context.Context, specIgnore string, limits Limits) (Index, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	if err := c.checkBucket(ctx); err != nil {
		return Index{}, err
	}
	rules, err := c.ignoreRules(ctx, specIgnore)
	if err != nil {
		return Index{}, err
	}
	var objs []Object
	opts := minio.ListObjectsOptions{Prefix: c.prefix, Recursive: true, MaxKeys: c.pageSize}
	for info := range c.s3.ListObjectsIter(ctx, c.bucket, opts) {
		if info.Err != nil {
			return Index{}, c.wrap("listing objects under prefix "+quote(c.prefix), c.ctxErr(ctx, info.Err))
		}
		if excluded(info.Key, rules) {
			continue
		}
		objs = append(objs, Object{Key: info.Key, ETag: trimETag(info.ETag), Size: info.Size})
	}
	if err := ctx.Err(); err != nil {
		return Index{}, c.wrap("listing objects", c.ctxErr(ctx, err))
	}
	idx := newIndex(objs)
	if limits.MaxFiles > 0 && idx.Len() > limits.MaxFiles ||
		limits.MaxSize > 0 && idx.Size() > limits.MaxSize {
		return Index{}, &LimitError{Endpoint: c.endpoint, Bucket: c.bucket,
			Files: idx.Len(), MaxFiles: limits.MaxFiles, Size: idx.Size(), MaxSize: limits.MaxSize}
	}
	if err := checkKeys(idx.Objects); err != nil {
		return Index{}, err
	}
	return idx, nil
}

// excluded reports whether the listed key stays out of the artifact: a
// "directory" placeholder (ending in /), the root .sourceignore, or a key
// the rules match.
func excluded(key string, rules ignore.Matcher) bool {
	if strings.HasSuffix(key, "/") || key == ignore.FileName {
		return true
	}
	return rules.Match(strings.Split(key, "/"), false)
}

// checkBucket checks that the bucket exists. A HEAD request carries no
// error body (and servers differ: versitygw answers an unknown access key
// with 404), so anything but success is retried as a one-key listing,
// whose body says what the server meant: NoSuchBucket,
// InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied...
func (c *Client) checkBucket(ctx context.Context) error {
	ok, err := c.s3.BucketExists(ctx, c.bucket)
	if err == nil && ok {
		return nil
	}
	answered := minio.ToErrorResponse(err).StatusCode != 0 // the server answered, without a body
	if err == nil {
		err, answered = &BucketNotFoundError{Endpoint: c.endpoint, Bucket: c.bucket}, true
	}
	if answered && ctx.Err() == nil {
		probe := minio.ListObjectsOptions{Prefix: c.prefix, MaxKeys: 1}
		for info := range c.s3.ListObjectsIter(ctx, c.bucket, probe) {
			if info.Err != nil {
				return c.wrap("checking the bucket", c.ctxErr(ctx, info.Err))
			}
			break
		}
		return nil // the listing works: the bucket exists, whatever HEAD said
	}
	return c.wrap("checking the bucket", c.ctxErr(ctx, err))
}

// ignoreRules reads .sourceignore at the bucket root, when there is one, and
// combines it with specIgnore: both are relative to the root, spec.ignore
// comes last and so overrules, and either replaces the default exclusions.
func (c *Client) ignoreRules(ctx context.Context, specIgnore string) (*ignore.Rules, error) {
	text, err := c.readSourceIgnore(ctx)
	if err != nil {
		return nil, err
	}
	return buildRules(text, specIgnore, c.endpoint, c.bucket)
}

// buildRules combines the root .sourceignore text and spec.ignore as Flux
// does: both are relative to the bucket root, spec.ignore comes last and so
// overrules, and a pattern from either replaces the default exclusions (the
// version-control ones always apply).
func buildRules(sourceIgnore, specIgnore, endpoint, bucket string) (*ignore.Rules, error) {
	text := sourceIgnore
	if strings.ContainsRune(text, 0) {
		return nil, fmt.Errorf("endpoint %s, bucket %q: %s contains a NUL byte", endpoint, bucket, ignore.FileName)
	}
	if specIgnore != "" {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += specIgnore
	}
	if text == "" {
		return ignore.FromSpec(nil)
	}
	rules, err := ignore.FromSpec(&text)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s, bucket %q: ignore rules (%s and spec.ignore): %w", endpoint, bucket, ignore.FileName, err)
	}
	return rules, nil
}

// readSourceIgnore returns the root .sourceignore, "" when there is none.
func (c *Client) readSourceIgnore(ctx context.Context) (string, error) {
	obj, err := c.s3.GetObject(ctx, c.bucket, ignore.FileName, minio.GetObjectOptions{})
	if err != nil {
		return "", c.wrap("reading "+ignore.FileName, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(io.LimitReader(obj, ignore.MaxFileSize+1))
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return "", nil
		}
		return "", c.wrap("reading "+ignore.FileName, c.ctxErr(ctx, err))
	}
	if len(data) > ignore.MaxFileSize {
		return "", fmt.Errorf("endpoint %s, bucket %q: %s is larger than %d bytes", c.endpoint, c.bucket, ignore.FileName, ignore.MaxFileSize)
	}
	return string(data), nil
}

// ctxErr names the timeout when ctx expired, so "context deadline exceeded"
// becomes a message that says what to change.
func (c *Client) ctxErr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("the server did not answer within the timeout of %s (raise spec.timeout if the bucket is large): %w", c.timeout, err)
	}
	return err
}

// trimETag removes the quotes some servers leave around an ETag.
func trimETag(etag string) string {
	return strings.Trim(etag, `"`)
}
