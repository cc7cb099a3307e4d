package s3test

import (
	"bytes"
	"context"
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
