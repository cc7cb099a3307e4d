package kubeerr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestUnreachable(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "https://127.0.0.1:6443/api", Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	cm := schema.GroupResource{Resource: "configmaps"}
	invalid := apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "cm", nil)
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection refused, wrapped twice", fmt.Errorf("apply: %w", fmt.Errorf("cm: %w", refused)), true},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"network timeout", &url.Error{Op: "Get", URL: "x", Err: context.DeadlineExceeded}, true},
		{"503", apierrors.NewServiceUnavailable("etcd is down"), true},
		{"429", apierrors.NewTooManyRequests("slow down", 1), true},
		{"500", apierrors.NewInternalError(errors.New("boom")), true},
		{"504", apierrors.NewTimeoutError("slow", 1), true},
		{"invalid", invalid, false},
		{"not found", apierrors.NewNotFound(cm, "cm"), false},
		{"forbidden", apierrors.NewForbidden(cm, "cm", errors.New("no")), false},
		{"invalid joined with 503", errors.Join(invalid, fmt.Errorf("cm-2: %w", apierrors.NewServiceUnavailable("x"))), true},
		{"invalid joined with not found", errors.Join(invalid, apierrors.NewNotFound(cm, "cm")), false},
		{"a plain failure", errors.New("kustomize build: accumulating resources"), false},
	} {
		if got := Unreachable(c.err); got != c.want {
			t.Errorf("%s: Unreachable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

func TestForbidden(t *testing.T) {
	cm := schema.GroupResource{Resource: "configmaps"}
	forbidden := apierrors.NewForbidden(cm, "cm", errors.New("no"))
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"forbidden, wrapped", fmt.Errorf("delete: %w", forbidden), true},
		{"joined after a not found", errors.Join(apierrors.NewNotFound(cm, "a"), fmt.Errorf("b: %w", forbidden)), true},
		{"not found", apierrors.NewNotFound(cm, "cm"), false},
		{"a plain failure", errors.New("forbidden in its text only"), false},
	} {
		if got := Forbidden(c.err); got != c.want {
			t.Errorf("%s: Forbidden(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
