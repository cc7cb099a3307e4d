package sops

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// MaxFileSize is the largest file DecryptFile reads, as in Flux.
const MaxFileSize = 5 << 20

// DecryptFile decrypts, in place, a SOPS-encrypted file consumed by a
// kustomize secretGenerator, in the format its name implies (.env, .json,
// .yaml/.yml, .ini, anything else binary). The caller owns the file: it
// should be a scratch copy. A file that is not SOPS-encrypted in that format
// is left as it is. The MAC is verified, as `sops --decrypt` does.
func (k *Keys) DecryptFile(path string) error {
	return k.DecryptFileAs(path, FormatForName(path))
}

// DecryptFileAs is DecryptFile with the format given: a secretGenerator
// "files: key=path" entry takes the format of its key, and "envs:" entries
// are dotenv unless their name says otherwise.
func (k *Keys) DecryptFileAs(path string, f Format) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("decrypting %s: %w", path, withoutPath(err))
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("decrypting %s: not a regular file", path)
	}
	if fi.Size() > MaxFileSize {
		return fmt.Errorf("decrypting %s: the file has %d bytes, more than the %d allowed", path, fi.Size(), MaxFileSize)
	}
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("decrypting %s: %w", path, withoutPath(err))
	}
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	fh.Close()
	if err != nil {
		return fmt.Errorf("decrypting %s: %w", path, err)
	}
	if !encryptedAs(data, f) {
		return nil
	}
	if k == nil {
		return fmt.Errorf("%s is SOPS-encrypted: %w (set spec.decryption with provider sops and a secretRef)", path, ErrNotConfigured)
	}
	out, err := k.decryptDocument(data, f, f)
	if err != nil {
		return fmt.Errorf("decrypting %s file %s: %w", f, path, err)
	}
	if err := os.WriteFile(path, out, fi.Mode().Perm()); err != nil {
		return fmt.Errorf("writing decrypted %s: %w", path, withoutPath(err))
	}
	return nil
}

// withoutPath drops the path a *fs.PathError repeats; errors.Is still sees
// the cause (fs.ErrNotExist...).
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
