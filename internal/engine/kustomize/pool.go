package kustomize

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// maxDefaultConcurrency caps the default number of concurrent builds: a
// build holds every object of a Kustomization in memory several times over,
// so more builds at once cost memory faster than they save time.
const maxDefaultConcurrency = 4

// DefaultConcurrency is the number of builds NewBuilder(0) and Build run at
// once: GOMAXPROCS, at most 4.
func DefaultConcurrency() int {
	return max(1, min(runtime.GOMAXPROCS(0), maxDefaultConcurrency))
}

// Builder runs builds, a bounded number at once; the others wait for a
// slot, or for their context to end. A Builder is safe for concurrent use.
type Builder struct {
	slots chan struct{}
}

// NewBuilder returns a Builder that runs up to concurrency builds at once;
// zero or less means DefaultConcurrency.
func NewBuilder(concurrency int) *Builder {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency()
	}
	return &Builder{slots: make(chan struct{}, concurrency)}
}

// defaultBuilder is the Builder of Build; package state, as the pool must
// be shared by every caller that does not make its own.
var defaultBuilder = sync.OnceValue(func() *Builder { return NewBuilder(0) })

// Build builds the directory o.Path of the artifact extracted at root, as
// the package documentation describes, with the process's default Builder.
func Build(ctx context.Context, root string, o Options) (*Result, error) {
	return defaultBuilder().Build(ctx, root, o)
}

// timeLimitError is the cause of a build's context when its time limit
// ends it.
type timeLimitError struct{ limit time.Duration }

func (e *timeLimitError) Error() string {
	return fmt.Sprintf("the build exceeded its time limit of %s", e.limit)
}

func (e *timeLimitError) Unwrap() error { return ErrBuildTimeout }

// outcome is what a build's goroutine returns.
type outcome struct {
	res *Result
	err error
}

// Build waits for a slot (or for ctx to end), then builds the directory
// o.Path of the artifact extracted at root, as the package documentation
// describes, within o.Timeout.
//
// The build runs on its own goroutine, so that the caller gets its answer
// when the time limit or ctx ends even though kustomize cannot be
// interrupted: its filesystem then fails every call, which ends most runs
// at their next file access, and the slot is only freed when the goroutine
// returns, so builds that overrun never exceed the pool.
func (b *Builder) Build(ctx context.Context, root string, o Options) (*Result, error) {
	acquired := false
	if ctx.Err() == nil { // a done context never gets a free slot
		select {
		case b.slots <- struct{}{}:
			acquired = true
		case <-ctx.Done():
		}
	}
	if !acquired {
		return nil, fmt.Errorf("kustomize build of %q: waiting for a build slot: %w", displayPath(o.Path), context.Cause(ctx))
	}
	limit := o.timeout()
	bctx, cancel := context.WithTimeoutCause(ctx, limit, &timeLimitError{limit: limit})
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		defer func() { <-b.slots }()
		defer func() {
			if r := recover(); r != nil {
				done <- outcome{err: fmt.Errorf("kustomize build of %q panicked: %v", displayPath(o.Path), r)}
			}
		}()
		res, err := buildIn(bctx, root, &o)
		done <- outcome{res: res, err: err}
	}()
	var out outcome
	select {
	case out = <-done:
	case <-bctx.Done():
		select {
		case out = <-done: // it finished as it was stopped
		default:
			out.err = bctx.Err()
		}
	}
	if out.err != nil && bctx.Err() != nil {
		// It failed because it was stopped: say why. The cause is a
		// *timeLimitError (ErrBuildTimeout) or ctx's.
		return nil, fmt.Errorf("kustomize build of %q: %w", displayPath(o.Path), context.Cause(bctx))
	}
	return out.res, out.err
}

// displayPath names the built path in messages.
func displayPath(p string) string {
	if p == "" {
		return "./"
	}
	return p
}
