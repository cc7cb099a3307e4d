package s3test_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/driftless/driftless/internal/testkit/s3test"
)

// New serves a program without a testing.TB: PutMany stores every object
// it is given, and Close stops the server and removes its data.
func TestNewPutManyClose(t *testing.T) {
	if _, err := s3test.Binary(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("versitygw is needed (make bin/versitygw): %v", err)
		}
		t.Skipf("versitygw is missing; run `make bin/versitygw`: %v", err)
	}
	s, err := s3test.New(s3test.Options{})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = s.Close()
		}
	}()
	ctx := context.Background()
	if err := s.Client.MakeBucket(ctx, "many", minio.MakeBucketOptions{Region: s.Region}); err != nil {
		t.Fatal(err)
	}
	const n = 250
	err = s.PutMany(ctx, "many", n, 8, func(i int) (string, []byte) {
		return fmt.Sprintf("d/%03d/o-%04d.txt", i%7, i), []byte(fmt.Sprint(i))
	})
	if err != nil {
		t.Fatal(err)
	}
	got := list(t, s.Client, "many")
	if len(got) != n {
		t.Fatalf("listed %d objects, want %d", len(got), n)
	}
	if body, _ := get(t, s.Client, "many", "d/005/o-0124.txt"); string(body) != "124" {
		t.Errorf("object 124 holds %q", body)
	}

	// A refused put is returned, naming the key.
	err = s.PutMany(ctx, "no-such-bucket", 3, 2, func(i int) (string, []byte) { return fmt.Sprintf("k%d", i), nil })
	if err == nil || !strings.Contains(err.Error(), "no-such-bucket/k") {
		t.Errorf("put into a missing bucket: %v, want an error naming the key", err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	if c, err := net.Dial("tcp", s.Endpoint); err == nil {
		c.Close()
		t.Errorf("%s still answers after Close", s.Endpoint)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
