package bucket

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/driftless/driftless/internal/engine/artifact"
)

// Previous is what an incremental Fetch starts from: the Index returned by
// the last successful Fetch of the same Bucket (same spec) and the artifact
// stored from it. The controller keeps it in memory only, so a restart, a
// spec change or a missing artifact means a full fetch.
type Previous struct {
	// Index is the last fetched Index.
	Index Index
	// ArtifactPath is the local path of the artifact tarball built from it.
	ArtifactPath string
	// Digest is that tarball's digest, "<algo>:<hex>", checked before use.
	Digest string
}

// reuse takes the objects of objs that prev holds unchanged (same key and
// ETag) from prev's tarball and writes them into root. It returns those
// objects, the ones left to download, and why prev was not used at all
// ("" when it was, or when there is no prev).
func (c *Client) reuse(objs []Object, root *os.Root, prev *Previous) (reused, todo []Object, reason string) {
	if prev == nil {
		return nil, objs, ""
	}
	var same []Object
	for _, o := range objs {
		if p, ok := prev.Index.Lookup(o.Key); ok && p.ETag == o.ETag && o.ETag != "" {
			same = append(same, o)
		} else {
			todo = append(todo, o)
		}
	}
	if len(same) == 0 {
		return nil, objs, ""
	}
	staging, err := os.MkdirTemp("", "bucket-reuse-*")
	if err != nil {
		return nil, objs, "creating a staging directory: " + err.Error()
	}
	defer os.RemoveAll(staging)
	if err := unpackVerified(prev.ArtifactPath, prev.Digest, staging); err != nil {
		return nil, objs, err.Error()
	}
	src, err := os.OpenRoot(staging)
	if err != nil {
		return nil, objs, "opening the staging directory: " + err.Error()
	}
	defer src.Close()
	for _, o := range same {
		n, err := copyFile(src, root, o.Key)
		if err != nil {
			todo = append(todo, o) // not in the tarball as expected: download it
			continue
		}
		reused = append(reused, Object{Key: o.Key, ETag: o.ETag, Size: n})
	}
	return reused, todo, ""
}

// unpackVerified checks the digest of the tarball at p, then unpacks it into
// dir with the repository's safe untar.
func unpackVerified(p, digest, dir string) error {
	algo, want, ok := strings.Cut(digest, ":")
	if !ok {
		return fmt.Errorf("previous artifact: invalid digest %q", digest)
	}
	h, err := newHash(algo)
	if err != nil {
		return fmt.Errorf("previous artifact: %w", err)
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("previous artifact: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("previous artifact: reading %s: %w", p, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("previous artifact: %s has digest %s:%s, not %s", p, algo, got, digest)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("previous artifact: %w", err)
	}
	if err := artifact.Untar(f, dir, artifact.UntarOptions{}); err != nil {
		return fmt.Errorf("previous artifact: unpacking %s: %w", p, err)
	}
	return nil
}

// copyFile copies the regular file key from src to dst, both roots.
func copyFile(src, dst *os.Root, key string) (int64, error) {
	in, err := src.Open(key)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	if info, err := in.Stat(); err != nil || !info.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", key)
	}
	if d := path.Dir(key); d != "." {
		if err := dst.MkdirAll(d, dirMode); err != nil {
			return 0, err
		}
	}
	out, err := dst.OpenFile(key, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fileMode)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return n, err
}
