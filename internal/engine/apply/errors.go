package apply

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ObjectError is the failure of one operation on one object. Its message
// starts with the object, Kind/namespace/name; Unwrap gives the API error,
// so apierrors.IsForbidden and the like work on it.
//
// For a Secret, Error replaces the values of the Secret (as applied and as
// found in the cluster) in the API server's message with Redacted: a
// validation error or an admission webhook may quote them, and the message
// goes to conditions and events that people without read access to
// Secrets can see. Err itself is left as the API server sent it: it is
// there to classify the failure; print the ObjectError, never Err.
type ObjectError struct {
	Ref ObjectRef
	// Op is the operation that failed: get, dry-run, apply, cleanup,
	// delete, wait.
	Op  string
	Err error

	hint    string   // what a person can do about it, appended to the message
	secrets []string // values to redact in the message, see secretValues
}

func (e *ObjectError) Error() string {
	if e.hint != "" {
		return e.message() + "; " + e.hint
	}
	return e.message()
}

func (e *ObjectError) message() string {
	switch {
	case meta.IsNoMatchError(e.Err):
		return fmt.Sprintf("%s: no matches for kind %q in group %q: is the CRD installed?", e.Ref, e.Ref.Kind, e.Ref.Group)
	case namespaceNotFound(e.Err):
		return fmt.Sprintf("%s: %s failed: namespace %q not found", e.Ref, e.Op, e.Ref.Namespace)
	}
	// Only the text from the API server is redacted: the object's own
	// name, written by us, is no value, and hiding a value that happens
	// to equal it would tell the value.
	return fmt.Sprintf("%s: %s failed: %s", e.Ref, e.Op, redact(e.detail(), e.secrets))
}

// detail is what the API server says, or else the text of Err.
func (e *ObjectError) detail() string {
	var status apierrors.APIStatus
	if errors.As(e.Err, &status) {
		return status.Status().Message
	}
	if e.Err == nil {
		return "unknown error"
	}
	return e.Err.Error()
}

func (e *ObjectError) Unwrap() error { return e.Err }

// objectError returns the failure of op on the object ref; the values of
// the Secrets among objs (the object as applied, as found in the cluster)
// are redacted in its message.
func objectError(ref ObjectRef, op string, err error, objs ...*unstructured.Unstructured) error {
	if err == nil {
		return nil
	}
	return &ObjectError{Ref: ref, Op: op, Err: err, secrets: secretValues(objs...)}
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
