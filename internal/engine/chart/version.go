package chart

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// NoVersionError says that no version matches a range. The controller
// stalls on it (InvalidChartReference) after setting Chart.
type NoVersionError struct {
	// Chart is the chart's name, set by the caller that knows it.
	Chart string
	// Range is the range nothing matched.
	Range string
}

// Error returns Flux's message: no 'x' chart with version matching '9.*'
// found.
func (e *NoVersionError) Error() string {
	if e.Chart == "" {
		return fmt.Sprintf("no chart with version matching '%s' found", e.Range)
	}
	return fmt.Sprintf("no '%s' chart with version matching '%s' found", e.Chart, e.Range)
}

// RangeError says that a version range does not parse; the controller
// stalls on it until the spec changes.
type RangeError struct {
	// Range is the expression as given.
	Range string
	// Err is the parser's error.
	Err error
}

// Error names the range and what is wrong with it.
func (e *RangeError) Error() string {
	return fmt.Sprintf("invalid chart version range '%s': %v", e.Range, e.Err)
}

// Unwrap returns the parser's error.
func (e *RangeError) Unwrap() error { return e.Err }

// PickVersion returns the newest of versions within rangeExpr, a
// Masterminds semver range ("*" when empty). A version that is not semver
// is skipped unless it is rangeExpr itself, as Helm's index lookup matches
// an exact version string first. Pre-releases are picked only when the
// range names one (">=1.0.0-0", "2.0.0-rc.1"), by Masterminds' rules. Of
// versions equal but for their build metadata, the greatest string wins so
// the answer does not depend on the order of versions. The errors are a
// *RangeError for a range that does not parse and a *NoVersionError when
// nothing matches.
func PickVersion(versions []string, rangeExpr string) (string, error) {
	expr := strings.TrimSpace(rangeExpr)
	if expr == "" {
		expr = "*"
	}
	for _, v := range versions {
		if v == expr {
			return v, nil
		}
	}
	constraint, err := semver.NewConstraint(expr)
	if err != nil {
		return "", &RangeError{Range: rangeExpr, Err: err}
	}
	var best *semver.Version
	bestRaw := ""
	for _, raw := range versions {
		v, err := semver.NewVersion(raw)
		if err != nil || !constraint.Check(v) {
			continue
		}
		if best == nil {
			best, bestRaw = v, raw
			continue
		}
		switch c := v.Compare(best); {
		case c > 0, c == 0 && raw > bestRaw:
			best, bestRaw = v, raw
		}
	}
	if best == nil {
		return "", &NoVersionError{Range: expr}
	}
	return bestRaw, nil
}
