package helmkube

import (
	"sync"
	"testing"

	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/kubectl/pkg/validation"
)

// countingFactory counts the validators it builds.
type countingFactory struct {
	kube.Factory
	mu    sync.Mutex
	built map[string]int
}

func (f *countingFactory) Validator(d string) (validation.Schema, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.built[d]++
	return validation.NullSchema{}, nil
}

func TestValidatorsAreBuiltOncePerDirective(t *testing.T) {
	inner := &countingFactory{built: map[string]int{}}
	f := &cachingFactory{Factory: inner}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, d := range []string{"Strict", "Ignore"} {
				if _, err := f.Validator(d); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if inner.built["Strict"] != 1 || inner.built["Ignore"] != 1 {
		t.Errorf("validators built %v, want one per directive", inner.built)
	}
}
