// Package imagepolicy chooses the latest tag of an image, as an
// ImagePolicy's spec asks: the tags pass filterTags.pattern, each keeps the
// value filterTags.extract makes of it, and one policy orders the values
// (semver range, alphabetical or numerical). The pick is the original tag
// of the best value.
//
// It is plain Go with no cluster access: the image-reflector controller
// reads the stored tags, calls Select and writes latestRef and its Ready
// message; `describe image policy` prints the same Result. One tag set
// always gives one pick: ties between equal values are broken by the tag
// string, so the order in which a registry lists its tags never matters.
package imagepolicy

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Kind names one of the ImagePolicy's policies.
type Kind string

// The policies of spec.policy.
const (
	Semver       Kind = "semver"
	Alphabetical Kind = "alphabetical"
	Numerical    Kind = "numerical"
)

// The orders of the alphabetical and numerical policies.
const (
	Asc  = "asc"
	Desc = "desc"
)

// BestCount is how many candidates a Result lists, best first.
const BestCount = 10

// unparsedCount is how many tags that did not parse a Result names.
const unparsedCount = 5

// Spec is the part of an ImagePolicy's spec that picks a tag.
type Spec struct {
	// Pattern is filterTags.pattern (a Go regexp); empty keeps every tag.
	Pattern string
	// Extract is filterTags.extract: a template over the pattern's
	// groups ($ts, ${1}); empty keeps the whole tag.
	Extract string
	// Kind is the policy.
	Kind Kind
	// Range is semver.range.
	Range string
	// Order is alphabetical.order or numerical.order: asc (the default)
	// picks the highest value, desc the lowest.
	Order string
}

// Candidate is a tag with the value the policy compared.
type Candidate struct {
	Tag   string
	Value string
}

// Result is the pick and what `describe image policy` shows about it.
type Result struct {
	// Tag is the picked tag, as the registry lists it.
	Tag string
	// Total is the number of distinct tags given.
	Total int
	// Filtered is the number left after filterTags.pattern.
	Filtered int
	// Unparsed counts the values the policy could not read (not semver,
	// not a number); Flux's semver policy skips them.
	Unparsed int
	// UnparsedTags names the first few of them, in tag order.
	UnparsedTags []string
	// Best lists up to BestCount candidates, best first; Best[0] is the
	// pick. For semver only the versions inside the range are listed.
	Best []Candidate
}

// Select picks the latest of tags as spec says. Errors are *SpecError
// (the spec cannot work: callers stall), *NoMatchError (nothing to pick:
// keep the previous pick) and *ParseError (numerical values that are no
// numbers, as Flux fails).
func Select(tags []string, spec Spec) (Result, error) {
	f, err := newFilter(spec.Pattern, spec.Extract)
	if err != nil {
		return Result{}, err
	}
	order, err := orderOf(spec)
	if err != nil {
		return Result{}, err
	}
	unique := dedupe(tags)
	res := Result{Total: len(unique)}
	cands := f.apply(unique)
	res.Filtered = len(cands)

	var ranked []Candidate
	switch spec.Kind {
	case Semver:
		ranked, err = rankSemver(cands, spec.Range, &res)
	case Alphabetical:
		ranked = rankAlphabetical(cands, order)
	case Numerical:
		ranked, err = rankNumerical(cands, order, &res)
	default:
		return Result{}, &SpecError{Field: "policy", Value: string(spec.Kind),
			Reason: "set one of semver, alphabetical or numerical"}
	}
	if err != nil {
		return res, err
	}
	if len(ranked) == 0 {
		return res, &NoMatchError{Total: res.Total, Filtered: res.Filtered, Filter: spec.Pattern != "",
			Unparsed: res.Unparsed, Policy: describe(spec, order)}
	}
	res.Tag = ranked[0].Tag
	res.Best = ranked[:min(len(ranked), BestCount)]
	return res, nil
}

// describe words the policy for messages.
func describe(spec Spec, order string) string {
	switch spec.Kind {
	case Semver:
		return fmt.Sprintf("semver range '%s'", spec.Range)
	case Alphabetical:
		return fmt.Sprintf("alphabetical order %s", order)
	default:
		return fmt.Sprintf("numerical order %s", order)
	}
}

func orderOf(spec Spec) (string, error) {
	if spec.Kind == Semver {
		return "", nil
	}
	switch spec.Order {
	case "", Asc:
		return Asc, nil
	case Desc:
		return Desc, nil
	}
	return "", &SpecError{Field: string(spec.Kind) + ".order", Value: spec.Order, Reason: "use asc or desc"}
}

// dedupe returns the distinct tags, sorted. The tag store keeps lists
// sorted and distinct already, so those are returned as they are, without
// a copy: the caller must not change them.
func dedupe(tags []string) []string {
	if sortedDistinct(tags) {
		return tags
	}
	seen := make(map[string]struct{}, len(tags))
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if _, ok := seen[t]; ok {
			continue
		}
		seen[t] = struct{}{}
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func sortedDistinct(tags []string) bool {
	for i := 1; i < len(tags); i++ {
		if tags[i-1] >= tags[i] {
			return false
		}
	}
	return true
}

// filter is filterTags compiled.
type filter struct {
	re      *regexp.Regexp
	extract string
}

func newFilter(pattern, extract string) (filter, error) {
	if pattern == "" {
		if extract != "" {
			return filter{}, &SpecError{Field: "filterTags.extract", Value: extract,
				Reason: "it needs a filterTags.pattern with the groups it names"}
		}
		return filter{}, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return filter{}, &SpecError{Field: "filterTags.pattern", Value: pattern,
			Reason: "it is not a valid regular expression: " + err.Error()}
	}
	if err := checkGroups(re, extract); err != nil {
		return filter{}, err
	}
	return filter{re: re, extract: extract}, nil
}

// checkGroups refuses an extract naming a group the pattern lacks: every
// value would be empty and the policy would silently compare nothing.
func checkGroups(re *regexp.Regexp, extract string) error {
	names := map[string]bool{}
	for i, n := range re.SubexpNames() {
		names[fmt.Sprint(i)] = true
		if n != "" {
			names[n] = true
		}
	}
	for _, ref := range templateRefs(extract) {
		if !names[ref] {
			return &SpecError{Field: "filterTags.extract", Value: extract,
				Reason: fmt.Sprintf("pattern '%s' has no group '%s'", re.String(), ref)}
		}
	}
	return nil
}

// templateRefs lists the group names and numbers a regexp template uses,
// with the rules of regexp.Expand ($name takes the longest word; a word of
// digits is a group number).
func templateRefs(tmpl string) []string {
	var refs []string
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] != '$' || i+1 >= len(tmpl) {
			continue
		}
		rest := tmpl[i+1:]
		switch {
		case rest[0] == '$':
			i++
		case rest[0] == '{':
			if end := strings.IndexByte(rest, '}'); end > 1 && isWord(rest[1:end]) {
				refs = append(refs, normalizeRef(rest[1:end]))
				i += end + 1
			}
		default:
			n := 0
			for n < len(rest) && isWordByte(rest[n]) {
				n++
			}
			if n > 0 {
				refs = append(refs, normalizeRef(rest[:n]))
				i += n
			}
		}
	}
	return refs
}

// normalizeRef writes a group number without leading zeros, as Expand
// reads it; names stay as they are.
func normalizeRef(s string) string {
	if n, err := strconv.Atoi(s); err == nil && allDigits(s) {
		return strconv.Itoa(n)
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return s != ""
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// apply keeps the tags the pattern matches, each with its extracted value.
func (f filter) apply(tags []string) []Candidate {
	out := make([]Candidate, 0, len(tags))
	for _, t := range tags {
		if f.re == nil {
			out = append(out, Candidate{Tag: t, Value: t})
			continue
		}
		m := f.re.FindStringSubmatchIndex(t)
		if m == nil {
			continue
		}
		v := t
		if f.extract != "" {
			v = string(f.re.ExpandString(nil, f.extract, t, m))
		}
		out = append(out, Candidate{Tag: t, Value: v})
	}
	return out
}
