package generator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// contentDigest hashes an output tree: every directory and file path in
// lexical order, each file's executable bit and content. Equal trees give
// equal digests wherever and whenever they are built, so an output whose
// content did not change keeps its revision and its consumers stay idle.
func contentDigest(root *os.Root) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		if d.IsDir() {
			fmt.Fprintf(h, "d %q\n", p)
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		exec := "-"
		if fi.Mode()&0o111 != 0 {
			exec = "x"
		}
		f, err := root.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fh := sha256.New()
		n, err := io.Copy(fh, f)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "f %q %s %d %x\n", p, exec, n, fh.Sum(nil))
		return nil
	})
	if err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
