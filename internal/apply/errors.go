package apply

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
)

// ObjectError is the failure of one operation on one object. Its message
// starts with the object, Kind/namespace/name; Unwrap gives the API error,
// so apierrors.IsForbidden and the like work on it.
type ObjectError struct {
	Ref ObjectRef
	// Op is the operation that failed: get, dry-run, apply, cleanup,
	// delete, wait.
	Op  string
	Err error

	hint string // what a person can do about it, appended to the message
}

func (e *ObjectError) Error() string {
	if e.hint != "" {
		return e.message() + "; " + e.hint
	}
	return e.message()
}

func (e *ObjectError) message() string {
	var status apierrors.APIStatus
	switch {
	case meta.IsNoMatchError(e.Err):
		return fmt.Sprintf("%s: no matches for kind %q in group %q: is the CRD installed?", e.Ref, e.Ref.Kind, e.Ref.Group)
	case namespaceNotFound(e.Err):
		return fmt.Sprintf("%s: %s failed: namespace %q not found", e.Ref, e.Op, e.Ref.Namespace)
	case errors.As(e.Err, &status):
		return fmt.Sprintf("%s: %s failed: %s", e.Ref, e.Op, status.Status().Message)
	}
	return fmt.Sprintf("%s: %s failed: %v", e.Ref, e.Op, e.Err)
}

func (e *ObjectError) Unwrap() error { return e.Err }

func objectError(ref ObjectRef, op string, err error) error {
	if err == nil {
		return nil
	}
	return &ObjectError{Ref: ref, Op: op, Err: err}
}

// namespaceNotFound tells whether err says that a namespace does not exist.
func namespaceNotFound(err error) bool {
	var status apierrors.APIStatus
	if !apierrors.IsNotFound(err) || !errors.As(err, &status) {
		return false
	}
	d := status.Status().Details
	return d != nil && d.Kind == "namespaces"
}

// immutable tells whether err rejects an update of a field that cannot
// change once set.
func immutable(err error) bool {
	if !apierrors.IsInvalid(err) {
		return false
	}
	msg := err.Error()
	for _, s := range []string{
		"field is immutable",
		"is immutable",
		"may not change once set",
		"may not be changed",
		"cannot change",
		"are forbidden", // StatefulSet: updates to statefulset spec for fields other than ... are forbidden
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// DeleteError reports the objects a prune could not delete; the caller
// keeps them in the inventory so that the next prune tries again.
type DeleteError struct {
	Failed []ObjectRef
	Err    error
}

func (e *DeleteError) Error() string { return e.Err.Error() }

func (e *DeleteError) Unwrap() error { return e.Err }

// FailedDeletes returns the objects err says could not be deleted.
func FailedDeletes(err error) []ObjectRef {
	var d *DeleteError
	if errors.As(err, &d) {
		return d.Failed
	}
	return nil
}
