package helmvalues

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// The reasons a valuesFrom entry fails, for errors.Is on a *ReferenceError.
var (
	// ErrObjectNotFound: the ConfigMap or Secret does not exist.
	ErrObjectNotFound = errors.New("not found")
	// ErrKeyNotFound: the object has no such key.
	ErrKeyNotFound = errors.New("key not found")
	// ErrUnsupportedKind: the entry's kind is neither ConfigMap nor Secret.
	ErrUnsupportedKind = errors.New("unsupported kind")
	// ErrInvalidYAML: the key does not hold a YAML map.
	ErrInvalidYAML = errors.New("invalid YAML")
	// ErrTargetPath: the value cannot be set at the entry's targetPath.
	ErrTargetPath = errors.New("cannot set targetPath")
	// ErrRead: the object could not be read (a transient or access error).
	ErrRead = errors.New("read failed")
)

// ReferenceError says which valuesFrom entry failed and why. Its message
// names the entry's index, kind, namespace, name and key, and, for invalid
// YAML, the line; never the content of the key.
type ReferenceError struct {
	// Index is the entry's position in valuesFrom.
	Index int
	// Kind, Namespace, Name and Key locate the value.
	Kind, Namespace, Name, Key string
	// TargetPath is the entry's targetPath, if any.
	TargetPath string
	// Reason is one of the Err* reasons of this package.
	Reason error
	// Line is the line of invalid YAML, 0 when unknown or not applicable.
	Line int
	// Detail says more without quoting the content: the YAML or strvals
	// problem with quoted spans removed, or the read error.
	Detail string
	// Err is the underlying error of a failed read, for errors.As.
	Err error
}

// Error names the entry and what is wrong with it.
func (e *ReferenceError) Error() string {
	obj := fmt.Sprintf("%s '%s/%s'", e.Kind, e.Namespace, e.Name)
	var b strings.Builder
	fmt.Fprintf(&b, "valuesFrom[%d]: ", e.Index)
	switch e.Reason {
	case ErrObjectNotFound:
		fmt.Fprintf(&b, "%s not found", obj)
	case ErrKeyNotFound:
		fmt.Fprintf(&b, "key '%s' not found in %s", e.Key, obj)
	case ErrUnsupportedKind:
		fmt.Fprintf(&b, "unsupported kind '%s' for '%s/%s': must be ConfigMap or Secret", e.Kind, e.Namespace, e.Name)
	case ErrInvalidYAML:
		fmt.Fprintf(&b, "invalid YAML in key '%s' of %s", e.Key, obj)
		if e.Line > 0 {
			fmt.Fprintf(&b, " at line %d", e.Line)
		}
	case ErrTargetPath:
		fmt.Fprintf(&b, "cannot set targetPath '%s' from key '%s' of %s", e.TargetPath, e.Key, obj)
	case ErrRead:
		fmt.Fprintf(&b, "reading %s", obj)
	default:
		fmt.Fprintf(&b, "%s key '%s': %v", obj, e.Key, e.Reason)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// Is matches the reason.
func (e *ReferenceError) Is(target error) bool { return target == e.Reason }

// Unwrap returns the read error, if any.
func (e *ReferenceError) Unwrap() error { return e.Err }

var (
	// quoted matches what parsers quote from their input: `...`, "..." and
	// '...' spans; a lone quoted character, as in "did not find expected ','
	// or ']'", is the parser's own syntax and matches alone to be kept.
	quoted  = regexp.MustCompile("`[^`]*`|\"(?:[^\"\\\\]|\\\\.)*\"|'[^']'|'[^']*'")
	lineNum = regexp.MustCompile(`line (\d+)`)
)

// redact removes every quoted span from a parser's message, so that no
// content of a ConfigMap or Secret key reaches a condition or an event.
func redact(msg string) string {
	msg = quoted.ReplaceAllStringFunc(msg, func(q string) string {
		if len([]rune(q)) == 3 && q[0] == '\'' {
			return q
		}
		return "<redacted>"
	})
	var parts []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}
