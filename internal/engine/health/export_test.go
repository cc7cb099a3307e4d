package health

import (
	"testing"
	"time"
)

// SetEvalTimeLimit sets the time limit of one evaluation for the test t.
func SetEvalTimeLimit(t *testing.T, d time.Duration) {
	old := evalTimeLimit
	evalTimeLimit = d
	t.Cleanup(func() { evalTimeLimit = old })
}
