package imagepolicy

import (
	"fmt"
	"strings"
)

// SpecError is a spec that cannot pick anything until it is changed: a
// pattern or range that does not compile, an unknown order. The caller
// stalls.
type SpecError struct {
	Field  string
	Value  string
	Reason string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("invalid %s '%s': %s", e.Field, e.Value, e.Reason)
}

// NoMatchError says no tag is left to pick; the previous pick stays.
type NoMatchError struct {
	Total    int
	Filtered int
	Filter   bool
	Unparsed int
	Policy   string
}

func (e *NoMatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no tag of %d", e.Total)
	if e.Filter {
		fmt.Fprintf(&b, " (%d after the filter)", e.Filtered)
	}
	fmt.Fprintf(&b, " matches %s", e.Policy)
	if e.Unparsed > 0 {
		fmt.Fprintf(&b, "; %d did not parse as a version", e.Unparsed)
	}
	return b.String()
}

// ParseError is a numerical policy over values that are no numbers.
type ParseError struct {
	Count int
	Of    int
	Tags  []string
}

func (e *ParseError) Error() string {
	quoted := make([]string, len(e.Tags))
	for i, t := range e.Tags {
		quoted[i] = "'" + t + "'"
	}
	more := ""
	if e.Count > len(e.Tags) {
		more = ", …"
	}
	return fmt.Sprintf("%d of %d tags do not parse as numbers (%s%s): set filterTags.pattern to keep only "+
		"the numeric ones, with filterTags.extract for the number, e.g. pattern '^main-[a-f0-9]+-(?P<ts>[0-9]+)' extract '$ts'",
		e.Count, e.Of, strings.Join(quoted, ", "), more)
}
