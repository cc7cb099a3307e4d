package generator

import (
	"errors"
	"fmt"
	"strings"
)

// Kinds of failure, to test with errors.Is. The controller maps them to its
// reasons: ErrValidationFailed stalls (the spec must change),
// ErrBuildFailed is retried (the sources may change).
var (
	// ErrValidationFailed marks a spec that can never build: an unknown or
	// duplicate alias, a path escaping its root, a bad capture or collision.
	ErrValidationFailed = errors.New("ValidationFailed")
	// ErrBuildFailed marks content that does not build with these sources:
	// a from matching nothing, a Merge into non-YAML, an Extract of a
	// non-tarball, an I/O error.
	ErrBuildFailed = errors.New("BuildFailed")
)

// Error says which artifact, copy operation and path failed, and why.
type Error struct {
	// Kind is ErrValidationFailed or ErrBuildFailed.
	Kind error
	// Artifact is the output's name, empty for spec-wide errors.
	Artifact string
	// Op is the copy operation ("copy[1] @src/a -> @artifact/b"), if any.
	Op string
	// Path is the offending path, if any.
	Path string
	// Detail says what is wrong and what to do.
	Detail string
	// Err is the underlying error, if any.
	Err error
}

// Error formats "artifact X: copy[i] from -> to: path P: detail: err".
func (e *Error) Error() string {
	var parts []string
	if e.Artifact != "" {
		parts = append(parts, "artifact "+e.Artifact)
	}
	if e.Op != "" {
		parts = append(parts, e.Op)
	}
	if e.Path != "" {
		parts = append(parts, fmt.Sprintf("path %q", e.Path))
	}
	parts = append(parts, e.Detail)
	msg := strings.Join(parts, ": ")
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the kind and the cause, so errors.Is sees both.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Reason is the condition reason the controller reports for err:
// "ValidationFailed", "BuildFailed", or "" for other errors.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrValidationFailed):
		return "ValidationFailed"
	case errors.Is(err, ErrBuildFailed):
		return "BuildFailed"
	}
	return ""
}

// opContext names where an error happened; it builds Errors.
type opContext struct {
	artifact string
	op       string
}

// invalid returns a ValidationFailed error at path.
func (c opContext) invalid(p, format string, args ...any) error {
	return &Error{Kind: ErrValidationFailed, Artifact: c.artifact, Op: c.op, Path: p, Detail: fmt.Sprintf(format, args...)}
}

// failed returns a BuildFailed error at path, wrapping err.
func (c opContext) failed(p string, err error, format string, args ...any) error {
	return &Error{Kind: ErrBuildFailed, Artifact: c.artifact, Op: c.op, Path: p, Detail: fmt.Sprintf(format, args...), Err: err}
}
