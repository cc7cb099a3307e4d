package postrender

import (
	"fmt"
	"strings"
)

// Error is a kustomize post-renderer that failed. Renderer is its index in
// spec.postRenderers; Patch is the index of the patch that does not apply
// in its kustomize.patches, or -1 when no single patch is to blame (the
// images, or a failure before the build); Target then describes the
// objects that patch applies to.
type Error struct {
	Renderer int
	Patch    int
	Target   string
	Err      error
}

// Error names the post-renderer, the patch and its target, then the cause,
// without kustomize's prefix about the temporary directory it built.
func (e *Error) Error() string {
	msg := e.Err.Error()
	if i := strings.Index(msg, "kustomize build of "); i >= 0 {
		if j := strings.Index(msg[i:], " failed: "); j >= 0 {
			msg = msg[:i] + msg[i+j+len(" failed: "):]
		}
	}
	if e.Patch < 0 {
		return fmt.Sprintf("post-renderer %d (kustomize): %s", e.Renderer, msg)
	}
	return fmt.Sprintf("post-renderer %d (kustomize): patch %d (%s) does not apply: %s", e.Renderer, e.Patch, e.Target, msg)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
