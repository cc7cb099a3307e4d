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
	out, changed, err := k.DecryptData(path, data, f)
	if err != nil || !changed {
		return err
	}
	if err := os.WriteFile(path, out, fi.Mode().Perm()); err != nil {
		return fmt.Errorf("writing decrypted %s: %w", path, withoutPath(err))
	}
	return nil
}

// DecryptData decrypts the content of a secretGenerator source named name,
// in format f, without touching any file. changed is false (and data is
// returned as it is) when the content is not SOPS-encrypted in that format.
func (k *Keys) DecryptData(name string, data []byte, f Format) (out []byte, changed bool, err error) {
	if len(data) > MaxFileSize {
		return nil, false, fmt.Errorf("decrypting %s: %d bytes, more than the %d allowed", name, len(data), MaxFileSize)
	}
	if !encryptedAs(data, f) {
		return data, false, nil
	}
	if k == nil {
		return nil, false, fmt.Errorf("%s is SOPS-encrypted: %w (set spec.decryption with provider sops and a secretRef)", name, ErrNotConfigured)
	}
	out, err = k.decryptDocument(data, f, f)
	if err != nil {
		return nil, false, fmt.Errorf("decrypting %s file %s: %w", f, name, err)
	}
	return out, true, nil
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
