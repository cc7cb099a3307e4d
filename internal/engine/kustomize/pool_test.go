package kustomize

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// waitBound bounds every wait of these tests for something that must
// happen; it is never expected to pass.
const waitBound = 30 * time.Second

// blockingHook is a Decrypt hook that reports each build reaching it on
// entered, then waits until release is closed. It runs while its build
// holds a slot.
type blockingHook struct {
	entered chan string
	release chan struct{}
}

func newBlockingHook() *blockingHook {
	return &blockingHook{entered: make(chan string, 8), release: make(chan struct{})}
}

func (h *blockingHook) decrypt(name string) func(*unstructured.Unstructured) error {
	return func(*unstructured.Unstructured) error {
		h.entered <- name
		<-h.release
		return nil
	}
}

// waitEntered returns the build that reached the hook, failing after
// waitBound.
func (h *blockingHook) waitEntered(t *testing.T, why string) string {
	t.Helper()
	select {
	case name := <-h.entered:
		return name
	case <-time.After(waitBound):
		t.Fatalf("no build reached the hook within %s: %s", waitBound, why)
		return ""
	}
}

// startBuild runs b.Build in the background; its result arrives on the
// returned channel.
func startBuild(ctx context.Context, b *Builder, root string, o Options) <-chan error {
	out := make(chan error, 1)
	go func() {
		_, err := b.Build(ctx, root, o)
		out <- err
	}()
	return out
}

// result waits for a build's error, failing after waitBound.
func result(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(waitBound):
		t.Fatalf("%s did not return within %s", what, waitBound)
		return nil
	}
}

func TestBuilderRunsTwoBuildsAtOnce(t *testing.T) {
	root := writeTree(t, map[string]string{"a.yaml": cmA})
	b := NewBuilder(2)
	h := newBlockingHook()
	first := startBuild(context.Background(), b, root, Options{Decrypt: h.decrypt("first")})
	second := startBuild(context.Background(), b, root, Options{Decrypt: h.decrypt("second")})
	h.waitEntered(t, "")
	h.waitEntered(t, "the second build waits for the first: the pool does not run two builds at once")
	close(h.release)
	for _, ch := range []<-chan error{first, second} {
		if err := result(t, ch, "a build"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBuildWaitingForSlotHonoursContext(t *testing.T) {
	root := writeTree(t, map[string]string{"a.yaml": cmA})
	b := NewBuilder(1)
	h := newBlockingHook()
	running := startBuild(context.Background(), b, root, Options{Decrypt: h.decrypt("running")})
	h.waitEntered(t, "")

	// The only slot is taken until release: the second build can only
	// return through its context.
	ctx, cancel := context.WithCancel(context.Background())
	waiting := startBuild(ctx, b, root, Options{Path: "./", Decrypt: h.decrypt("waiting")})
	cancel()
	err := result(t, waiting, "the build waiting for a slot")
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "waiting for a build slot") {
		t.Fatalf("error = %v, want context.Canceled while waiting for a build slot", err)
	}
	close(h.release)
	if err := result(t, running, "the running build"); err != nil {
		t.Fatal(err)
	}
	select {
	case name := <-h.entered:
		t.Fatalf("the %s build ran", name)
	default:
	}
}

func TestBuildTimeLimit(t *testing.T) {
	root := writeTree(t, map[string]string{"a.yaml": cmA})
	b := NewBuilder(1)
	h := newBlockingHook()
	err := result(t, startBuild(context.Background(), b, root, Options{
		Timeout: time.Millisecond, Decrypt: h.decrypt("slow")}), "the build past its time limit")
	if !errors.Is(err, ErrBuildTimeout) || !strings.Contains(err.Error(), "time limit of 1ms") {
		t.Fatalf("error = %v, want ErrBuildTimeout naming the limit", err)
	}
	// The slot stays taken until the build's goroutine ends; then the
	// next build runs.
	close(h.release)
	if err := result(t, startBuild(context.Background(), b, root, Options{}), "the next build"); err != nil {
		t.Fatal(err)
	}
}

func TestBuildCanceledWhileRunning(t *testing.T) {
	root := writeTree(t, map[string]string{"a.yaml": cmA})
	h := newBlockingHook()
	defer close(h.release)
	ctx, cancel := context.WithCancel(context.Background())
	done := startBuild(ctx, NewBuilder(1), root, Options{Decrypt: h.decrypt("running")})
	h.waitEntered(t, "")
	cancel()
	if err := result(t, done, "the canceled build"); !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

func TestBuildRecoversPanickingHook(t *testing.T) {
	root := writeTree(t, map[string]string{"a.yaml": cmA})
	_, err := Build(context.Background(), root, Options{Decrypt: func(*unstructured.Unstructured) error { panic("boom") }})
	if err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Fatalf("error = %v, want the panic reported", err)
	}
}

func TestDefaultConcurrency(t *testing.T) {
	if n := DefaultConcurrency(); n < 1 || n > maxDefaultConcurrency {
		t.Fatalf("DefaultConcurrency() = %d", n)
	}
	if got := cap(NewBuilder(0).slots); got != DefaultConcurrency() {
		t.Fatalf("NewBuilder(0) has %d slots", got)
	}
}
