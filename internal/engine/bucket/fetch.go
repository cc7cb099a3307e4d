package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sync"

	"github.com/minio/minio-go/v7"
)

// fileMode and dirMode are the modes of the written tree; the archive
// normalises them anyway.
const (
	fileMode = 0o600
	dirMode  = 0o750
)

// DefaultConcurrency is the number of parallel downloads when Fetch is
// given none.
const DefaultConcurrency = 4

// FetchStats says how a Fetch obtained the files, for the event and the log.
type FetchStats struct {
	// Downloaded objects were read from the bucket.
	Downloaded int
	// Reused objects were taken from the previous artifact.
	Reused int
	// Deleted objects were listed but gone when downloaded; they are left
	// out of the returned Index.
	Deleted int
	// FullFetch, when not "", says why a Previous was given but not used
	// (missing artifact, digest mismatch...).
	FullFetch string
}

// Fetch writes the objects of idx into dir (created when missing) through
// os.Root, at most concurrency downloads at a time (0: DefaultConcurrency).
// The ETag of each GET response, not the listing's, goes into the returned
// Index, and an object deleted since the listing is left out of it, so its
// Revision describes exactly the files written: the caller computes the
// artifact's revision from it, never from idx.
//
// prev (nil for a full fetch) is the last fetched Index and the artifact
// built from it: objects with the same key and ETag in both are taken from
// that tarball (its digest checked first, then unpacked with the safe
// untar) and only new or changed objects are downloaded. Whatever goes
// wrong with prev falls back to downloading (FetchStats.FullFetch says
// why); the written tree is the same either way.
func (c *Client) Fetch(ctx context.Context, idx Index, dir string, prev *Previous, concurrency int) (Index, FetchStats, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var stats FetchStats
	objs := idx.sorted()
	if err := checkKeys(objs); err != nil {
		return Index{}, stats, err
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return Index{}, stats, fmt.Errorf("creating %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Index{}, stats, fmt.Errorf("opening %s: %w", dir, err)
	}
	defer root.Close()

	reused, todo, reason := c.reuse(objs, root, prev)
	stats.FullFetch = reason
	stats.Reused = len(reused)
	got, deleted, err := c.download(ctx, root, todo, concurrency)
	if err != nil {
		return Index{}, stats, err
	}
	stats.Downloaded = len(got)
	stats.Deleted = deleted
	return newIndex(append(reused, got...)), stats, nil
}

// download fetches objs into root with bounded concurrency and returns them
// with the ETag and size of the GET responses, and how many were gone.
func (c *Client) download(ctx context.Context, root *os.Root, objs []Object, concurrency int) ([]Object, int, error) {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	budget := &byteBudget{left: c.maxDownload, bounded: c.maxDownload > 0}
	var (
		mu      sync.Mutex
		got     []Object
		deleted int
		wg      sync.WaitGroup
		next    = make(chan Object)
	)
	for range min(concurrency, max(len(objs), 1)) {
		wg.Go(func() {
			for o := range next {
				fetched, gone, err := c.downloadOne(ctx, root, o, budget)
				mu.Lock()
				switch {
				case err != nil:
					cancel(err)
				case gone:
					deleted++
				default:
					got = append(got, fetched)
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, o := range objs {
		select {
		case next <- o:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, 0, c.wrap("downloading objects", c.ctxErr(ctx, err))
		}
		return nil, 0, err
	}
	return got, deleted, nil
}

// downloadOne writes one object; gone is true when the server no longer
// has it (deleted since the listing), in which case nothing is left behind.
// The object is read before its Stat: minio-go's first read is the GET,
// whose headers then answer Stat, where a Stat first would cost a HEAD
// per object.
func (c *Client) downloadOne(ctx context.Context, root *os.Root, o Object, budget *byteBudget) (Object, bool, error) {
	obj, err := c.s3.GetObject(ctx, c.bucket, o.Key, minio.GetObjectOptions{})
	if err != nil {
		return Object{}, false, c.wrap("downloading "+quote(o.Key), err)
	}
	defer obj.Close()
	if d := path.Dir(o.Key); d != "." {
		if err := root.MkdirAll(d, dirMode); err != nil {
			return Object{}, false, fmt.Errorf("writing object %s: %w", quote(o.Key), err)
		}
	}
	f, err := root.OpenFile(o.Key, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fileMode)
	if err != nil {
		return Object{}, false, fmt.Errorf("writing object %s: %w", quote(o.Key), err)
	}
	n, err := io.Copy(f, budget.reader(obj))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var info minio.ObjectInfo
	if err == nil {
		info, err = obj.Stat()
	}
	if errors.Is(err, errBudget) {
		_ = root.Remove(o.Key)
		return Object{}, false, &LimitError{Endpoint: c.endpoint, Bucket: c.bucket, Size: budget.spent(c.maxDownload), MaxSize: c.maxDownload}
	}
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			_ = root.Remove(o.Key)
			return Object{}, true, nil
		}
		return Object{}, false, c.wrap("downloading "+quote(o.Key), c.ctxErr(ctx, err))
	}
	return Object{Key: o.Key, ETag: trimETag(info.ETag), Size: n}, false, nil
}

// errBudget ends a download that would pass the fetch's byte budget.
var errBudget = errors.New("download budget spent")

// byteBudget is what one Fetch may still write, shared by its downloads.
type byteBudget struct {
	mu      sync.Mutex
	left    int64
	bounded bool
}

// reader reads r and charges each read to the budget, failing with
// errBudget once it is spent.
func (b *byteBudget) reader(r io.Reader) io.Reader {
	if !b.bounded {
		return r
	}
	return budgetReader{r: r, b: b}
}

// spent is how many bytes were charged of max.
func (b *byteBudget) spent(max int64) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return max - b.left
}

type budgetReader struct {
	r io.Reader
	b *byteBudget
}

func (br budgetReader) Read(p []byte) (int, error) {
	n, err := br.r.Read(p)
	br.b.mu.Lock()
	br.b.left -= int64(n)
	over := br.b.left < 0
	br.b.mu.Unlock()
	if over {
		return n, errBudget
	}
	return n, err
}
