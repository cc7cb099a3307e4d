package generator

import (
	"path"
	"strings"
)

// ref is a parsed "@alias/path" reference.
type ref struct {
	alias string
	// rel is the cleaned path inside the alias's root, "" for the root.
	rel string
	// dir is true when the reference ended in "/" or named the root.
	dir bool
}

// parseRef splits "@alias/path" and confines path: no "..", not absolute.
// It returns a ValidationFailed error from c naming field and value.
func parseRef(c opContext, field, s string) (ref, error) {
	if !strings.HasPrefix(s, "@") {
		return ref{}, c.invalid(s, "%s must start with @alias/, as in @source/path", field)
	}
	alias, rest, _ := strings.Cut(s[1:], "/")
	if alias == "" {
		return ref{}, c.invalid(s, "%s has an empty alias; write @alias/path", field)
	}
	rel, err := cleanRel(rest)
	if err != nil {
		return ref{}, c.invalid(s, "%s %s; use a path inside the %s", field, err.Error(), rootName(alias))
	}
	return ref{alias: alias, rel: rel, dir: rel == "" || strings.HasSuffix(rest, "/")}, nil
}

// rootName names the root a reference is confined to, for messages.
func rootName(alias string) string {
	if alias == artifactAlias {
		return "artifact root"
	}
	return "source @" + alias
}

// pathError explains why a relative path is refused.
type pathError string

// Error returns the explanation.
func (e pathError) Error() string { return string(e) }

// cleanRel cleans a slash path relative to a root, refusing ".." segments
// (before cleaning, so "a/../b" is refused too), NUL bytes and backslashes.
func cleanRel(p string) (string, error) {
	if strings.ContainsAny(p, "\x00\\") {
		return "", pathError("holds a NUL byte or a backslash")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", pathError("escapes its root with \"..\"")
		}
	}
	c := path.Clean("/" + p)
	return strings.TrimPrefix(c, "/"), nil
}

// joinRel joins relative slash paths, dropping empty parts.
func joinRel(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" && p != "." {
			keep = append(keep, p)
		}
	}
	return path.Join(keep...)
}
