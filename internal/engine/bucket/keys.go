package bucket

import (
	"strconv"
	"strings"
)

// checkKeys refuses keys that cannot be written as files under a directory
// without escaping it or clashing with another key: a ".." or "." segment, a
// leading "/", a backslash (a separator on some systems), a NUL, an empty
// segment ("a//b"), and a key that is both a file and the directory of
// another key ("a" and "a/b"). objs are sorted by key.
func checkKeys(objs []Object) error {
	dirs := map[string]string{} // directory → one key beneath it
	for _, o := range objs {
		if reason := unsafeKey(o.Key); reason != "" {
			return &UnsafeKeyError{Key: o.Key, Reason: reason}
		}
		for i := 0; i < len(o.Key); i++ {
			if o.Key[i] == '/' {
				if _, seen := dirs[o.Key[:i]]; !seen {
					dirs[o.Key[:i]] = o.Key
				}
			}
		}
	}
	for _, o := range objs {
		if other, ok := dirs[o.Key]; ok {
			return &UnsafeKeyError{Key: o.Key,
				Reason: "it is both a file and the directory of " + quote(other)}
		}
	}
	return nil
}

// unsafeKey returns why key cannot be written safely, or "".
func unsafeKey(key string) string {
	switch {
	case key == "":
		return "the key is empty"
	case strings.ContainsRune(key, 0):
		return "it contains a NUL byte"
	case strings.Contains(key, `\`):
		return "it contains a backslash"
	case strings.HasPrefix(key, "/"):
		return "it starts with /"
	}
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case "":
			return "it has an empty path segment"
		case "..":
			return "it has a .. path segment"
		case ".":
			return "it has a . path segment"
		}
	}
	return ""
}

// quote quotes a key for a message, escaping control characters.
func quote(s string) string { return strconv.Quote(s) }
