package bucket

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/testkit/s3test"
)

// TestIndexPrefixSourceIgnorePages lists under a prefix with a page size of
// 2, so every page must be followed, with a root .sourceignore and
// spec.ignore, and checks the revision against Flux's lines by hand.
func TestIndexPrefixSourceIgnorePages(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "bkt")
	s.Put(t, "bkt", ".sourceignore", []byte("*.txt\n"))
	etags := map[string]string{}
	for _, k := range []string{"apps/a.yaml", "apps/b.yaml", "apps/c/d.yaml", "apps/e.yaml", "apps/f.yaml", "apps/g/h.yaml", "apps/skip.yaml"} {
		etags[k] = s.Put(t, "bkt", k, []byte("content of "+k))
	}
	s.Put(t, "bkt", "apps/notes.txt", []byte("ignored by .sourceignore"))
	s.Put(t, "bkt", "apps/logo.png", []byte("kept: .sourceignore replaces the defaults"))
	s.Put(t, "bkt", "docs/x.yaml", []byte("outside the prefix"))
	delete(etags, "apps/skip.yaml")

	cfg := config(s, "bkt")
	cfg.Prefix, cfg.PageSize = "apps/", 2
	cnt := s.NewCountingProxy(t)
	cfg.Endpoint = cnt.Endpoint()
	idx, err := mustNew(t, cfg).Index(ctx(t), "apps/skip.yaml", Limits{})
	if err != nil {
		t.Fatalf("Index: %v", err)
	}
	want := []string{"apps/a.yaml", "apps/b.yaml", "apps/c/d.yaml", "apps/e.yaml", "apps/f.yaml", "apps/g/h.yaml", "apps/logo.png"}
	if got := keys(idx); !slices.Equal(got, want) {
		t.Fatalf("keys %q, want %q", got, want)
	}
	if cnt.Lists() < 4 {
		t.Errorf("%d listing requests for 8 objects in pages of 2: not every page was followed", cnt.Lists())
	}
	var lines strings.Builder
	for _, o := range idx.Objects {
		if e, ok := etags[o.Key]; ok && e != o.ETag {
			t.Errorf("%s: ETag %q, the server gave %q at put", o.Key, o.ETag, e)
		}
		fmt.Fprintf(&lines, "%s %s\n", o.Key, o.ETag)
	}
	if got, want := Revision(idx, "sha256"), shaHex(lines.String()); got != want {
		t.Errorf("Revision %s, want %s", got, want)
	}
}

// TestListingTwiceDoesNoGet: a poll without a change lists and downloads
// nothing but .sourceignore.
func TestListingTwiceDoesNoGet(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "bkt")
	for i := range 5 {
		s.Put(t, "bkt", fmt.Sprintf("k%d.yaml", i), []byte{byte(i)})
	}
	cnt := s.NewCountingProxy(t)
	cfg := config(s, "bkt")
	cfg.Endpoint = cnt.Endpoint()
	c := mustNew(t, cfg)
	first, err := c.Index(ctx(t), "", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Index(ctx(t), "", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if Revision(first, "sha256") != Revision(second, "sha256") || first.Len() != 5 {
		t.Fatalf("revisions differ or wrong count: %v / %v", first, second)
	}
	if gets := objectGets(cnt, "bkt"); len(gets) != 0 {
		t.Errorf("listing downloaded objects: %v", gets)
	}
}

// TestFetchIncremental: after one object changes, exactly one GET, and the
// tree and the tarball equal a full fetch's.
func TestFetchIncremental(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "bkt")
	for i := range 30 {
		s.Put(t, "bkt", fmt.Sprintf("dir%d/obj%02d.yaml", i%3, i), []byte(fmt.Sprintf("v1 %d", i)))
	}
	cnt := s.NewCountingProxy(t)
	cfg := config(s, "bkt")
	cfg.Endpoint = cnt.Endpoint()
	c := mustNew(t, cfg)

	idx, err := c.Index(ctx(t), "", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(t.TempDir(), "first")
	fetched, stats, err := c.Fetch(ctx(t), idx, first, nil, 3)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if stats.Downloaded != 30 || stats.Reused != 0 || Revision(fetched, "sha256") != Revision(idx, "sha256") {
		t.Fatalf("full fetch: stats %+v, revision %s vs %s", stats, Revision(fetched, "sha256"), Revision(idx, "sha256"))
	}
	artifactPath, _, digest := archive(t, first)

	s.Put(t, "bkt", "dir1/obj07.yaml", []byte("v2"))
	cnt.Reset()
	idx2, err := c.Index(ctx(t), "", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	incr := filepath.Join(t.TempDir(), "incr")
	got, stats, err := c.Fetch(ctx(t), idx2, incr, &Previous{Index: fetched, ArtifactPath: artifactPath, Digest: digest}, 3)
	if err != nil {
		t.Fatalf("incremental Fetch: %v", err)
	}
	gets := objectGets(cnt, "bkt")
	if !slices.Equal(gets, []string{"dir1/obj07.yaml"}) || stats.Downloaded != 1 || stats.Reused != 29 || stats.FullFetch != "" {
		t.Fatalf("incremental fetch did GETs %q, stats %+v; want exactly dir1/obj07.yaml", gets, stats)
	}

	full := filepath.Join(t.TempDir(), "full")
	fullIdx, _, err := c.Fetch(ctx(t), idx2, full, nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	if Revision(got, "sha256") != Revision(fullIdx, "sha256") {
		t.Errorf("incremental revision %s, full %s", Revision(got, "sha256"), Revision(fullIdx, "sha256"))
	}
	if a, b := tree(t, incr), tree(t, full); !maps.Equal(a, b) {
		t.Errorf("incremental tree differs from a full fetch's:\n%v\n%v", a, b)
	}
	_, incrTar, _ := archive(t, incr)
	_, fullTar, _ := archive(t, full)
	if !bytes.Equal(incrTar, fullTar) {
		t.Error("the incremental tarball differs from a full fetch's")
	}

	// A tampered artifact is not trusted: everything is downloaded again.
	bad := &Previous{Index: fetched, ArtifactPath: artifactPath, Digest: "sha256:" + strings.Repeat("0", 64)}
	_, stats, err = c.Fetch(ctx(t), idx2, filepath.Join(t.TempDir(), "bad"), bad, 3)
	if err != nil || stats.Downloaded != 30 || !strings.Contains(stats.FullFetch, "digest") {
		t.Errorf("digest mismatch: err %v, stats %+v; want a full fetch saying why", err, stats)
	}
}

// TestFetchObjectDeletedAfterListing: the object is left out of the fetched
// index and the tree, and the revision says so.
func TestFetchObjectDeletedAfterListing(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "bkt")
	s.Put(t, "bkt", "keep.yaml", []byte("k"))
	s.Put(t, "bkt", "gone/soon.yaml", []byte("g"))
	c := mustNew(t, config(s, "bkt"))
	idx, err := c.Index(ctx(t), "", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	s.Delete(t, "bkt", "gone/soon.yaml")
	dir := t.TempDir()
	got, stats, err := c.Fetch(ctx(t), idx, dir, nil, 2)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !slices.Equal(keys(got), []string{"keep.yaml"}) || stats.Deleted != 1 {
		t.Errorf("fetched %q, stats %+v; want keep.yaml only and one deleted", keys(got), stats)
	}
	if Revision(got, "sha256") == Revision(idx, "sha256") {
		t.Error("the revision hides the deletion")
	}
	if tr := tree(t, dir); !maps.Equal(tr, map[string]string{"keep.yaml": "k", "gone/": ""}) && !maps.Equal(tr, map[string]string{"keep.yaml": "k"}) {
		t.Errorf("tree %v", tr)
	}
}

// TestLimitsRefusedBeforeAnyGet names the numbers and the flags.
func TestLimitsRefusedBeforeAnyGet(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "bkt")
	for i := range 3 {
		s.Put(t, "bkt", fmt.Sprintf("k%d", i), bytes.Repeat([]byte("x"), 100))
	}
	cnt := s.NewCountingProxy(t)
	cfg := config(s, "bkt")
	cfg.Endpoint = cnt.Endpoint()
	c := mustNew(t, cfg)
	_, err := c.Index(ctx(t), "", Limits{MaxFiles: 2})
	if !IsLimitExceeded(err) || !strings.Contains(err.Error(), "3 objects exceed the limit of 2") || !strings.Contains(err.Error(), "--artifact-max-files") {
		t.Errorf("MaxFiles: %v", err)
	}
	_, err = c.Index(ctx(t), "", Limits{MaxSize: 250})
	if !IsLimitExceeded(err) || !strings.Contains(err.Error(), "300 bytes") || !strings.Contains(err.Error(), "250") || !strings.Contains(err.Error(), "--artifact-max-size") {
		t.Errorf("MaxSize: %v", err)
	}
	if gets := objectGets(cnt, "bkt"); len(gets) != 0 {
		t.Errorf("GETs before the refusal: %v", gets)
	}
}

// TestWrongKeys says what the server answered and never shows the secret.
func TestWrongKeys(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "bkt")
	for name, mod := range map[string]func(*Config){
		"secret":     func(c *Config) { c.SecretKey = "wrong-secret-value" },
		"access key": func(c *Config) { c.AccessKey = "UNKNOWNKEY"; c.SecretKey = "wrong-secret-value" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := config(s, "bkt")
			mod(&cfg)
			_, err := mustNew(t, cfg).Index(ctx(t), "", Limits{})
			if !IsAuthenticationFailed(err) {
				t.Fatalf("Index = %v, want an authentication failure", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, s.Endpoint) || !strings.Contains(msg, `"bkt"`) || strings.Contains(msg, "wrong-secret-value") {
				t.Errorf("message %q must name endpoint and bucket and no secret", msg)
			}
			code := err.(*AuthError).Code
			// versitygw in single-account mode answers an unknown access
			// key with XAdminUserNotFound where AWS says InvalidAccessKeyId.
			unknownKey := code == "InvalidAccessKeyId" || code == "XAdminUserNotFound"
			if name == "secret" && code != "SignatureDoesNotMatch" || name == "access key" && !unknownKey {
				t.Errorf("%s: code %q, want what the server answered for it", name, code)
			}
			if !strings.Contains(msg, code) || !strings.Contains(msg, map[string]string{"secret": "secretkey", "access key": "accesskey"}[name]) {
				t.Errorf("message %q must say %s and which key to check", msg, code)
			}
		})
	}
}

// TestMissingBucket is a BucketNotFoundError naming endpoint and bucket.
func TestMissingBucket(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	_, err := mustNew(t, config(s, "nope")).Index(ctx(t), "", Limits{})
	if !IsBucketNotFound(err) || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), s.Endpoint) {
		t.Fatalf("Index = %v, want a missing bucket", err)
	}
}

// TestTLSWithCA: HTTPS with the CA of certSecretRef works, without it the
// certificate is refused, and plain HTTP to a TLS endpoint fails clearly.
func TestTLSWithCA(t *testing.T) {
	s := s3test.Start(t, s3test.Options{TLS: true})
	s.MakeBucket(t, "bkt")
	s.Put(t, "bkt", "a.yaml", []byte("a"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CA)
	cfg := config(s, "bkt")
	cfg.TLS = &tls.Config{RootCAs: pool}
	idx, err := mustNew(t, cfg).Index(ctx(t), "", Limits{})
	if err != nil || idx.Len() != 1 {
		t.Fatalf("Index with the CA: %v, %v", idx, err)
	}
	cfg.TLS = nil
	if _, err := mustNew(t, cfg).Index(ctx(t), "", Limits{}); err == nil || !strings.Contains(err.Error(), "ca.crt in certSecretRef") {
		t.Errorf("Index without the CA = %v, want a certificate error saying to set ca.crt", err)
	}
	cfg.Insecure = true
	if _, err := mustNew(t, cfg).Index(ctx(t), "", Limits{}); err == nil || !strings.Contains(err.Error(), s.Endpoint) || !strings.Contains(err.Error(), "remove insecure: true") {
		t.Errorf("plain HTTP to an HTTPS endpoint = %v, want an error naming the endpoint and insecure", err)
	}
}
