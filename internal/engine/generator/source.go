package generator

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"syscall"
)

// aliasRe is what a source alias may hold, as the API's pattern says.
var aliasRe = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// sourceRoot reads one source's directory through os.Root, so no read
// follows a link out of it.
type sourceRoot struct {
	alias string
	root  *os.Root
}

// openSources opens every source's directory; close the result when done.
func openSources(sources []Source) (map[string]*sourceRoot, func(), error) {
	roots := map[string]*sourceRoot{}
	closeAll := func() {
		for _, r := range roots {
			_ = r.root.Close()
		}
	}
	for _, s := range sources {
		if _, dup := roots[s.Alias]; dup {
			closeAll()
			return nil, nil, opContext{}.invalid("@"+s.Alias, "duplicate source alias %q; give every source its own alias", s.Alias)
		}
		if !aliasRe.MatchString(s.Alias) || s.Alias == artifactAlias {
			closeAll()
			return nil, nil, opContext{}.invalid("@"+s.Alias, "source alias %q is reserved or not made of letters, digits, '-' and '_'; rename it", s.Alias)
		}
		r, err := os.OpenRoot(s.Dir)
		if err != nil {
			closeAll()
			return nil, nil, opContext{}.failed("@"+s.Alias, err, "cannot open the source's artifact directory")
		}
		roots[s.Alias] = &sourceRoot{alias: s.Alias, root: r}
	}
	return roots, closeAll, nil
}

// fileKind is what a source path resolves to.
type fileKind int

const (
	kindMissing fileKind = iota
	kindFile
	kindDir
)

// kind resolves rel (following links inside the source only).
func (s *sourceRoot) kind(c opContext, rel string) (fileKind, error) {
	name := rel
	if name == "" {
		name = "."
	}
	fi, err := s.root.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return kindMissing, nil
	case isEscape(err):
		return kindMissing, c.invalid("@"+s.alias+"/"+rel, "path leaves the source through a link; links must stay inside the source")
	case err != nil:
		return kindMissing, c.failed("@"+s.alias+"/"+rel, err, "cannot read the source")
	case fi.IsDir():
		return kindDir, nil
	case fi.Mode().IsRegular():
		return kindFile, nil
	}
	return kindMissing, c.failed("@"+s.alias+"/"+rel, nil, "not a regular file or directory")
}

// isEscape reports os.Root's refusal of a path leaving the root; the os
// package does not export that error, so its message is matched.
func isEscape(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// walk returns every path under dir (files and directories, dir excluded),
// sorted. Links are resolved inside the source: a link to a file counts as
// a file, a link to a directory is not descended into (no loops), and a
// link leaving the source is a ValidationFailed error.
func (s *sourceRoot) walk(c opContext, dir string) (files, dirs []string, err error) {
	start := dir
	if start == "" {
		start = "."
	}
	err = fs.WalkDir(s.root.FS(), start, func(p string, d fs.DirEntry, werr error) error {
		if werr != nil {
			return c.failed("@"+s.alias+"/"+p, werr, "cannot read the source")
		}
		if p == start {
			return nil
		}
		rel := p
		switch {
		case d.IsDir():
			dirs = append(dirs, rel)
		case d.Type().IsRegular():
			files = append(files, rel)
		case d.Type()&fs.ModeSymlink != 0:
			k, kerr := s.kind(c, rel)
			if kerr != nil {
				return kerr
			}
			if k == kindFile {
				files = append(files, rel)
			}
		}
		return nil
	})
	sort.Strings(files)
	sort.Strings(dirs)
	return files, dirs, err
}

// under reports whether p is dir or inside it ("" is the root).
func under(p, dir string) bool {
	return dir == "" || p == dir || (len(p) > len(dir) && p[:len(dir)] == dir && p[len(dir)] == '/')
}

// relTo returns p relative to dir ("" is the root).
func relTo(p, dir string) string {
	if dir == "" {
		return p
	}
	if p == dir {
		return path.Base(p)
	}
	return p[len(dir)+1:]
}
