package s3test_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/driftless/driftless/internal/testkit/s3test"
)

// get reads bucket/key through c and returns the body and ETag.
func get(t *testing.T, c *minio.Client, bucket, key string) ([]byte, string) {
	t.Helper()
	obj, err := c.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer obj.Close()
	body, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		t.Fatalf("stat %s/%s: %v", bucket, key, err)
	}
	return body, st.ETag
}

// list returns key → ETag of every object of bucket.
func list(t *testing.T, c *minio.Client, bucket string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for obj := range c.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatalf("list %s: %v", bucket, obj.Err)
		}
		out[obj.Key] = obj.ETag
	}
	return out
}

// The server stores, overwrites and deletes objects, reporting ETags that
// change with the content, over plain HTTP and over HTTPS with its CA.
func TestServerObjects(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts s3test.Options
	}{
		{"http", s3test.Options{}},
		{"https", s3test.Options{TLS: true, Region: "eu-west-3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := s3test.Start(t, tc.opts)
			wantScheme := "http://"
			if tc.opts.TLS {
				wantScheme = "https://"
				if !bytes.Contains(s.CA, []byte("BEGIN CERTIFICATE")) {
					t.Fatalf("CA = %q, want a PEM certificate", s.CA)
				}
			} else if s.CA != nil {
				t.Fatalf("CA = %q on a plain server, want none", s.CA)
			}
			if s.URL != wantScheme+s.Endpoint {
				t.Fatalf("URL %q, Endpoint %q: want URL %s<Endpoint>", s.URL, s.Endpoint, wantScheme)
			}
			wantRegion := tc.opts.Region
			if wantRegion == "" {
				wantRegion = s3test.DefaultRegion
			}
			if s.Region != wantRegion {
				t.Fatalf("Region = %q, want %q", s.Region, wantRegion)
			}

			s.MakeBucket(t, "configs")
			e1 := s.Put(t, "configs", "apps/a.yaml", []byte("one"))
			s.Put(t, "configs", "docs/readme.md", []byte("doc"))
			body, etag := get(t, s.Client, "configs", "apps/a.yaml")
			if string(body) != "one" || etag != e1 || e1 == "" {
				t.Fatalf("got %q with ETag %q, want %q with the put's ETag %q", body, etag, "one", e1)
			}

			e2 := s.Put(t, "configs", "apps/a.yaml", []byte("two"))
			if e2 == e1 {
				t.Fatalf("overwrite kept ETag %q", e1)
			}
			body, etag = get(t, s.Client, "configs", "apps/a.yaml")
			if string(body) != "two" || etag != e2 {
				t.Fatalf("after overwrite got %q with ETag %q, want %q with %q", body, etag, "two", e2)
			}

			s.Delete(t, "configs", "docs/readme.md")
			got := list(t, s.Client, "configs")
			if len(got) != 1 || got["apps/a.yaml"] != e2 {
				t.Fatalf("listing after delete = %v, want only apps/a.yaml with %q", got, e2)
			}
			if _, err := s.Client.StatObject(context.Background(), "configs", "docs/readme.md", minio.StatObjectOptions{}); minio.ToErrorResponse(err).Code != "NoSuchKey" {
				t.Fatalf("stat of the deleted key: %v, want NoSuchKey", err)
			}
		})
	}
}

// Wrong keys are refused: the server checks signatures, so tests of bad
// credentials mean something.
func TestServerRefusesWrongKeys(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	wrong := *s
	wrong.SecretKey = "not-the-secret"
	c := wrong.NewClient(t, s.Endpoint, false, nil)
	_, err := c.ListBuckets(context.Background())
	if code := minio.ToErrorResponse(err).Code; code != "SignatureDoesNotMatch" {
		t.Fatalf("ListBuckets with a wrong secret: %v (code %q), want SignatureDoesNotMatch", err, code)
	}
}

// A server in another region refuses a bucket request signed for
// us-east-1, as AWS does: what a Bucket with a wrong spec.region meets.
func TestServerRegion(t *testing.T) {
	s := s3test.Start(t, s3test.Options{Region: "eu-west-3"})
	s.MakeBucket(t, "bkt")
	s.Put(t, "bkt", "k", []byte("v"))
	if got := list(t, s.Client, "bkt"); len(got) != 1 {
		t.Fatalf("listing in the right region = %v, want k", got)
	}
	wrong := *s
	wrong.Region = s3test.DefaultRegion
	c := wrong.NewClient(t, s.Endpoint, false, nil)
	for obj := range c.ListObjects(context.Background(), "bkt", minio.ListObjectsOptions{}) {
		if code := minio.ToErrorResponse(obj.Err).Code; code != "AuthorizationHeaderMalformed" {
			t.Fatalf("listing signed for %s: %v (code %q), want AuthorizationHeaderMalformed", wrong.Region, obj.Err, code)
		}
		return
	}
	t.Fatal("listing signed for the wrong region returned nothing, want an error")
}
