package s3test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// opTimeout bounds each object operation a test asks of the server.
const opTimeout = 30 * time.Second

// MakeBucket creates bucket name in the server's region, failing the test
// when the server refuses.
func (s *Server) MakeBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := s.Client.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: s.Region}); err != nil {
		t.Fatalf("s3test: make bucket %q: %v", name, err)
	}
}

// Put writes body to bucket/key, creating or overwriting the object, and
// returns its ETag as minio-go reports it (unquoted).
func (s *Server) Put(t testing.TB, bucket, key string, body []byte) (etag string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	info, err := s.Client.PutObject(ctx, bucket, key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{})
	if err != nil {
		t.Fatalf("s3test: put %s/%s: %v", bucket, key, err)
	}
	return info.ETag
}

// Delete removes bucket/key; removing a missing key succeeds, as in S3.
func (s *Server) Delete(t testing.TB, bucket, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := s.Client.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatalf("s3test: delete %s/%s: %v", bucket, key, err)
	}
}

// PutMany writes n objects to bucket, object(i) giving the key and body of
// the i-th, with concurrency puts at a time: enough objects to exercise
// listing pages and download limits are put in seconds rather than minutes.
// It stops at the first refusal and returns it, naming the key.
func (s *Server) PutMany(ctx context.Context, bucket string, n, concurrency int, object func(i int) (key string, body []byte)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(min(concurrency, n), 1) {
		wg.Go(func() {
			for i := range next {
				key, body := object(i)
				put, stop := context.WithTimeout(ctx, opTimeout)
				_, err := s.Client.PutObject(put, bucket, key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{})
				stop()
				if err != nil {
					cancel(fmt.Errorf("s3test: put %s/%s: %w", bucket, key, err))
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}
