package imagepolicy

import (
	"math"
	"sort"
	"strconv"

	"github.com/Masterminds/semver/v3"
)

// rankSemver keeps the values that parse as versions (leniently, `v`
// prefixes included) and fall inside the range, highest first. Values that
// do not parse are skipped and counted, as Flux skips them.
func rankSemver(cands []Candidate, rng string, res *Result) ([]Candidate, error) {
	c, err := semver.NewConstraint(rng)
	if err != nil {
		return nil, &SpecError{Field: "semver.range", Value: rng,
			Reason: "it is not a semver constraint: " + err.Error()}
	}
	type version struct {
		Candidate
		v *semver.Version
	}
	var in []version
	for _, cand := range cands {
		v, err := parseVersion(cand.Value)
		if err != nil {
			noteUnparsed(res, cand)
			continue
		}
		if c.Check(v) {
			in = append(in, version{cand, v})
		}
	}
	sort.Slice(in, func(i, j int) bool {
		if d := in[i].v.Compare(in[j].v); d != 0 {
			return d > 0
		}
		return in[i].Tag > in[j].Tag
	})
	out := make([]Candidate, len(in))
	for i := range in {
		out[i] = in[i].Candidate
	}
	return out, nil
}

// parseVersion is semver.NewVersion, lenient (`v` prefixes, missing minor
// or patch), trying the strict parser first: it gives the same version for
// the strings it accepts without NewVersion's regular expression, whose
// matching was most of the time and garbage of an evaluation over
// thousands of tags.
func parseVersion(s string) (*semver.Version, error) {
	if v, err := semver.StrictNewVersion(s); err == nil {
		return v, nil
	}
	return semver.NewVersion(s)
}

// rankAlphabetical orders the values by their bytes: asc puts the last
// value first, desc the first.
func rankAlphabetical(cands []Candidate, order string) []Candidate {
	out := append([]Candidate(nil), cands...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Value != out[j].Value {
			return (out[i].Value > out[j].Value) == (order == Asc)
		}
		return out[i].Tag > out[j].Tag
	})
	return out
}

// rankNumerical orders the values as numbers. Like Flux it fails when one
// value is no number, but it names the first few and says how to filter.
func rankNumerical(cands []Candidate, order string, res *Result) ([]Candidate, error) {
	type number struct {
		Candidate
		n float64
	}
	in := make([]number, 0, len(cands))
	for _, cand := range cands {
		n, err := strconv.ParseFloat(cand.Value, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			noteUnparsed(res, cand)
			continue
		}
		in = append(in, number{cand, n})
	}
	if res.Unparsed > 0 {
		return nil, &ParseError{Count: res.Unparsed, Of: len(cands), Tags: res.UnparsedTags}
	}
	sort.Slice(in, func(i, j int) bool {
		if in[i].n != in[j].n {
			return (in[i].n > in[j].n) == (order == Asc)
		}
		return in[i].Tag > in[j].Tag
	})
	out := make([]Candidate, len(in))
	for i := range in {
		out[i] = in[i].Candidate
	}
	return out, nil
}

func noteUnparsed(res *Result, cand Candidate) {
	res.Unparsed++
	if len(res.UnparsedTags) < unparsedCount {
		res.UnparsedTags = append(res.UnparsedTags, cand.Tag)
	}
}
