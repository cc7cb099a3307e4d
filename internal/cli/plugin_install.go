package cli

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// maxPluginBytes bounds a plugin download and the binary taken from it.
const maxPluginBytes = 1 << 30

// installPlugin downloads the archive of p, checks its digest, takes the
// binary out of it into dir (flux-<name>, mode 0755) and writes the
// receipt. The binary replaces an installed one only once the archive is
// verified and unpacked; a failure before leaves dir as it was.
func installPlugin(ctx context.Context, client *http.Client, dir string, m *pluginManifest, v *pluginVersion, p *pluginPlatform, now time.Time) error {
	want, ok := strings.CutPrefix(p.Checksum, "sha256:")
	if !ok || len(want) != sha256.Size*2 {
		return fmt.Errorf("plugin %q %s: checksum %q is not sha256:<hex>, the only digest Driftless checks", m.Name, v.Version, p.Checksum)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the plugin directory: %w", err)
	}
	archive, err := os.CreateTemp(dir, ".download-"+m.Name+"-*")
	if err != nil {
		return fmt.Errorf("plugin directory %s: %w", dir, err)
	}
	defer os.Remove(archive.Name())
	defer archive.Close()
	got, err := download(ctx, client, p.URL, archive)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("plugin %q %s: the archive %s has digest sha256:%s, the catalogue says sha256:%s: refusing it", m.Name, v.Version, p.URL, got, want)
	}
	target := p.ExtractPath
	if target == "" {
		target = m.Bin
		if runtime.GOOS == "windows" {
			target += ".exe"
		}
	}
	binName := pluginFileName(m.Name)
	bin, err := os.CreateTemp(dir, ".install-"+m.Name+"-*")
	if err != nil {
		return fmt.Errorf("plugin directory %s: %w", dir, err)
	}
	defer os.Remove(bin.Name())
	if err := extractPluginBinary(archive, p.URL, target, bin); err != nil {
		bin.Close()
		return fmt.Errorf("plugin %q %s from %s: %w", m.Name, v.Version, p.URL, err)
	}
	if err := bin.Chmod(0o755); err != nil {
		bin.Close()
		return err
	}
	if err := bin.Close(); err != nil {
		return err
	}
	receipt, err := yaml.Marshal(pluginReceipt{Name: m.Name, Version: v.Version, InstalledAt: now.UTC().Format(time.RFC3339), Platform: *p})
	if err != nil {
		return err
	}
	if err := os.Rename(bin.Name(), filepath.Join(dir, binName)); err != nil {
		return fmt.Errorf("installing %s: %w", binName, err)
	}
	return writeFileAtomic(filepath.Join(dir, pluginPrefix+m.Name+".yaml"), receipt, 0o644)
}

// download writes url's body to w and returns its sha256 in hex.
func download(ctx context.Context, client *http.Client, url string, w io.Writer) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("plugin archive URL %q: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("downloading %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("downloading %s: HTTP %d", url, resp.StatusCode)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(resp.Body, maxPluginBytes+1))
	if err != nil {
		return "", fmt.Errorf("downloading %s: %w", url, err)
	}
	if n > maxPluginBytes {
		return "", fmt.Errorf("downloading %s: larger than %d bytes", url, maxPluginBytes)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// extractPluginBinary copies the binary out of the downloaded file: the
// entry target of a tar.gz, tar or zip archive (an exact path when it has a
// slash, else the first regular file with that base name), or the file
// itself when it is no archive. An archive with an entry that would land
// outside the directory it is unpacked in is refused whole.
func extractPluginBinary(archive *os.File, url, target string, out io.Writer) error {
	if _, err := archive.Seek(0, io.SeekStart); err != nil {
		return err
	}
	head := make([]byte, 262)
	n, _ := io.ReadFull(archive, head)
	head = head[:n]
	if _, err := archive.Seek(0, io.SeekStart); err != nil {
		return err
	}
	lower := strings.ToLower(url)
	switch {
	case strings.HasSuffix(lower, ".zip") || bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		info, err := archive.Stat()
		if err != nil {
			return err
		}
		return extractFromZip(archive, info.Size(), target, out)
	case strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz") || bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		gz, err := gzip.NewReader(archive)
		if err != nil {
			return fmt.Errorf("not a gzip archive: %w", err)
		}
		defer gz.Close()
		return extractFromTar(gz, target, out)
	case strings.HasSuffix(lower, ".tar") || (len(head) >= 262 && string(head[257:262]) == "ustar"):
		return extractFromTar(archive, target, out)
	}
	_, err := io.Copy(out, io.LimitReader(archive, maxPluginBytes))
	return err
}

// entryMatches reports whether the archive entry is the binary looked for.
func entryMatches(name, target string) bool {
	name = strings.TrimPrefix(path.Clean(name), "./")
	if strings.Contains(target, "/") {
		return name == path.Clean(target)
	}
	return path.Base(name) == target
}

// checkEntry refuses an entry whose name, or link target, leaves the
// directory the archive would be unpacked in.
func checkEntry(name, link string, isLink bool) error {
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return fmt.Errorf("archive entry %q escapes the plugin directory: refusing the archive", name)
	}
	if isLink {
		resolved := path.Join(path.Dir(name), link)
		if path.IsAbs(link) || !filepath.IsLocal(filepath.FromSlash(resolved)) {
			return fmt.Errorf("archive entry %q links to %q, outside the plugin directory: refusing the archive", name, link)
		}
	}
	return nil
}

func extractFromTar(r io.Reader, target string, out io.Writer) error {
	tr := tar.NewReader(r)
	found := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
		isLink := h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeLink
		if err := checkEntry(h.Name, h.Linkname, isLink); err != nil {
			return err
		}
		if found || !entryMatches(h.Name, target) {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			return fmt.Errorf("archive entry %q is not a regular file", h.Name)
		}
		if h.Size > maxPluginBytes {
			return fmt.Errorf("archive entry %q is larger than %d bytes", h.Name, maxPluginBytes)
		}
		if _, err := io.Copy(out, tr); err != nil {
			return fmt.Errorf("unpacking %s: %w", h.Name, err)
		}
		found = true
	}
	if !found {
		return fmt.Errorf("the archive has no %q", target)
	}
	return nil
}

func extractFromZip(r io.ReaderAt, size int64, target string, out io.Writer) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("not a zip archive: %w", err)
	}
	var match *zip.File
	for _, zf := range zr.File {
		isLink := zf.Mode()&os.ModeSymlink != 0
		link := ""
		if isLink {
			rc, err := zf.Open()
			if err != nil {
				return err
			}
			b, err := io.ReadAll(io.LimitReader(rc, 4096))
			rc.Close()
			if err != nil {
				return err
			}
			link = string(b)
		}
		if err := checkEntry(zf.Name, link, isLink); err != nil {
			return err
		}
		if match == nil && entryMatches(zf.Name, target) {
			match = zf
		}
	}
	if match == nil {
		return fmt.Errorf("the archive has no %q", target)
	}
	if !match.Mode().IsRegular() {
		return fmt.Errorf("archive entry %q is not a regular file", match.Name)
	}
	rc, err := match.Open()
	if err != nil {
		return fmt.Errorf("unpacking %s: %w", match.Name, err)
	}
	defer rc.Close()
	if _, err := io.Copy(out, io.LimitReader(rc, maxPluginBytes)); err != nil {
		return fmt.Errorf("unpacking %s: %w", match.Name, err)
	}
	return nil
}

// uninstallPlugin removes flux-<name> and its receipt from dir.
func uninstallPlugin(dir, name string) error {
	bin := filepath.Join(dir, pluginFileName(name))
	if _, err := os.Lstat(bin); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("plugin %q is not installed in %s (flux plugin list shows what is)", name, dir)
	}
	if err := os.Remove(bin); err != nil {
		return fmt.Errorf("removing plugin %q: %w", name, err)
	}
	if err := os.Remove(filepath.Join(dir, pluginPrefix+name+".yaml")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the receipt of plugin %q: %w", name, err)
	}
	return nil
}

// readReceipt is the receipt of an installed plugin, nil for one installed
// by hand (or with an unreadable receipt).
func readReceipt(dir, name string) *pluginReceipt {
	b, err := os.ReadFile(filepath.Join(dir, pluginPrefix+name+".yaml"))
	if err != nil {
		return nil
	}
	var r pluginReceipt
	if yaml.Unmarshal(b, &r) != nil || r.Version == "" {
		return nil
	}
	return &r
}

// writeFileAtomic writes a file through a temporary file and a rename.
func writeFileAtomic(name string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
