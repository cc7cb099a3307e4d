package imagepolicy

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

func TestSelect(t *testing.T) {
	timestamps := []string{
		"main-9f1c2ab-1611840548", "main-0a1b2c3-1611840612", "main-77aa001-999999999",
		"feature-x-aaaaaaa-1711840548", "latest", "1.0.0",
	}
	tests := []struct {
		name  string
		tags  []string
		spec  Spec
		want  string
		best  []string
		total int
		kept  int
		skips int
	}{
		{name: "semver range of example 04 never takes the major", tags: []string{"1.2.3", "2.0.0", "1.3.0", "latest"},
			spec: Spec{Kind: Semver, Range: ">=1.0.0 <2.0.0"}, want: "1.3.0", best: []string{"1.3.0", "1.2.3"}, total: 4, kept: 4, skips: 1},
		{name: "v prefixed tags of example 10", tags: []string{"v0.9.0", "v1.0.0", "v1.10.0", "v1.9.0", "sha-abc"},
			spec: Spec{Kind: Semver, Range: ">=1.0.0"}, want: "v1.10.0", best: []string{"v1.10.0", "v1.9.0", "v1.0.0"}, total: 5, kept: 5, skips: 1},
		{name: "lenient versions parse", tags: []string{"1", "1.2", "v1.1"},
			spec: Spec{Kind: Semver, Range: ">=1"}, want: "1.2", best: []string{"1.2", "v1.1", "1"}, total: 3, kept: 3},
		{name: "podinfo 5.1.x", tags: []string{"5.0.3", "5.1.0", "5.1.4", "5.2.0", "6.0.0"},
			spec: Spec{Kind: Semver, Range: "5.1.x"}, want: "5.1.4", best: []string{"5.1.4", "5.1.0"}, total: 5, kept: 5},
		{name: "release candidates only with a prerelease range", tags: []string{"1.0.0-rc.1", "1.0.0-rc.2", "0.9.0"},
			spec: Spec{Kind: Semver, Range: ">=1.0.0-0"}, want: "1.0.0-rc.2", best: []string{"1.0.0-rc.2", "1.0.0-rc.1"}, total: 3, kept: 3},
		{name: "release candidates excluded by a plain range", tags: []string{"1.0.0-rc.1", "1.0.0-rc.2", "0.9.0"},
			spec: Spec{Kind: Semver, Range: ">=0.1.0"}, want: "0.9.0", best: []string{"0.9.0"}, total: 3, kept: 3},
		{name: "release candidates through a filter and extract", tags: []string{"1.0.0-rc.1", "1.0.0-rc.10", "1.0.0-rc.2", "1.0.0"},
			spec: Spec{Kind: Numerical, Pattern: `^1\.0\.0-rc\.(?P<rc>\d+)$`, Extract: "$rc"}, want: "1.0.0-rc.10",
			best: []string{"1.0.0-rc.10", "1.0.0-rc.2", "1.0.0-rc.1"}, total: 4, kept: 3},
		{name: "equal versions break on the tag", tags: []string{"1.0.0", "v1.0.0", "1.0.0+b", "1.0.0+a"},
			spec: Spec{Kind: Semver, Range: "*"}, want: "v1.0.0", best: []string{"v1.0.0", "1.0.0+b", "1.0.0+a", "1.0.0"}, total: 4, kept: 4},
		{name: "timestamps numerically with $ts", tags: timestamps,
			spec: Spec{Kind: Numerical, Order: Asc, Pattern: `^main-[a-f0-9]+-(?P<ts>[0-9]+)`, Extract: "$ts"},
			want: "main-0a1b2c3-1611840612", best: []string{"main-0a1b2c3-1611840612", "main-9f1c2ab-1611840548", "main-77aa001-999999999"}, total: 6, kept: 3},
		{name: "timestamps numerically desc with ${1}", tags: timestamps,
			spec: Spec{Kind: Numerical, Order: Desc, Pattern: `^main-[a-f0-9]+-([0-9]+)$`, Extract: "${1}"},
			want: "main-77aa001-999999999", best: []string{"main-77aa001-999999999", "main-9f1c2ab-1611840548", "main-0a1b2c3-1611840612"}, total: 6, kept: 3},
		{name: "timestamps alphabetically mis-order different widths", tags: timestamps,
			spec: Spec{Kind: Alphabetical, Pattern: `^main-[a-f0-9]+-(?P<ts>[0-9]+)`, Extract: "$ts"},
			want: "main-77aa001-999999999", best: []string{"main-77aa001-999999999", "main-0a1b2c3-1611840612", "main-9f1c2ab-1611840548"}, total: 6, kept: 3},
		{name: "semver extracted from build tags", tags: []string{"build-42-v1.3.7", "build-43-v1.4.0", "build-44-v2.0.0-rc.1", "build-x", "v9.0.0"},
			spec: Spec{Kind: Semver, Range: ">=1.0.0", Pattern: `^build-\d+-v(?P<version>\d+\.\d+\.\d+)$`, Extract: "$version"},
			want: "build-43-v1.4.0", best: []string{"build-43-v1.4.0", "build-42-v1.3.7"}, total: 5, kept: 2},
		{name: "alphabetical asc picks the last", tags: []string{"a", "c", "b"},
			spec: Spec{Kind: Alphabetical}, want: "c", best: []string{"c", "b", "a"}, total: 3, kept: 3},
		{name: "alphabetical desc picks the first", tags: []string{"b", "a", "c"},
			spec: Spec{Kind: Alphabetical, Order: Desc}, want: "a", best: []string{"a", "b", "c"}, total: 3, kept: 3},
		{name: "readable timestamps of the sortable tags guide", tags: []string{"2021-01-28.133158", "2021-01-29.090000", "2020-12-31.235959"},
			spec: Spec{Kind: Alphabetical}, want: "2021-01-29.090000", best: []string{"2021-01-29.090000", "2021-01-28.133158", "2020-12-31.235959"}, total: 3, kept: 3},
		{name: "numbers of different widths", tags: []string{"2", "12", "1.5"},
			spec: Spec{Kind: Numerical}, want: "12", best: []string{"12", "2", "1.5"}, total: 3, kept: 3},
		{name: "extracted collisions break on the tag", tags: []string{"a-1", "b-1"},
			spec: Spec{Kind: Numerical, Pattern: `-(\d+)$`, Extract: "$1"}, want: "b-1", best: []string{"b-1", "a-1"}, total: 2, kept: 2},
		{name: "duplicates count once", tags: []string{"1", "1", "2"},
			spec: Spec{Kind: Numerical}, want: "2", best: []string{"2", "1"}, total: 2, kept: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Select(tc.tags, tc.spec)
			if err != nil {
				t.Fatalf("Select: %v", err)
			}
			if res.Tag != tc.want {
				t.Errorf("picked %q, want %q", res.Tag, tc.want)
			}
			var best []string
			for _, c := range res.Best {
				best = append(best, c.Tag)
			}
			if !slices.Equal(best, tc.best) {
				t.Errorf("best %v, want %v", best, tc.best)
			}
			if res.Total != tc.total || res.Filtered != tc.kept || res.Unparsed != tc.skips {
				t.Errorf("counts total=%d filtered=%d unparsed=%d, want %d %d %d",
					res.Total, res.Filtered, res.Unparsed, tc.total, tc.kept, tc.skips)
			}
		})
	}
}

func TestSelectBestTen(t *testing.T) {
	var tags []string
	for i := range 25 {
		tags = append(tags, fmt.Sprintf("1.%d.0", i))
	}
	res, err := Select(tags, Spec{Kind: Semver, Range: ">=1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Best) != BestCount || res.Best[0].Tag != "1.24.0" || res.Best[9].Tag != "1.15.0" {
		t.Fatalf("best ten = %v", res.Best)
	}
}

func TestSelectErrors(t *testing.T) {
	tests := []struct {
		name    string
		tags    []string
		spec    Spec
		as      any
		message string
	}{
		{name: "no match names counts and range", tags: []string{"2.0.0", "0.9.0", "latest", "dev-1"},
			spec: Spec{Kind: Semver, Range: ">=1.0.0 <2.0.0", Pattern: `^[0-9l]`}, as: new(*NoMatchError),
			message: "no tag of 4 (3 after the filter) matches semver range '>=1.0.0 <2.0.0'; 1 did not parse as a version"},
		{name: "no match without a filter", tags: nil, spec: Spec{Kind: Alphabetical},
			as: new(*NoMatchError), message: "no tag of 0 matches alphabetical order asc"},
		{name: "pattern that does not compile", spec: Spec{Kind: Alphabetical, Pattern: "^main-(["},
			as: new(*SpecError), message: "invalid filterTags.pattern '^main-([': it is not a valid regular expression"},
		{name: "extract naming a missing group", spec: Spec{Kind: Numerical, Pattern: `^main-(?P<ts>\d+)`, Extract: "$stamp"},
			as: new(*SpecError), message: "pattern '^main-(?P<ts>\\d+)' has no group 'stamp'"},
		{name: "extract naming a missing group number", spec: Spec{Kind: Numerical, Pattern: `^main-(\d+)`, Extract: "${2}"},
			as: new(*SpecError), message: "has no group '2'"},
		{name: "extract without a pattern", spec: Spec{Kind: Numerical, Extract: "$ts"},
			as: new(*SpecError), message: "invalid filterTags.extract '$ts': it needs a filterTags.pattern"},
		{name: "range that does not compile", spec: Spec{Kind: Semver, Range: ">=one"},
			as: new(*SpecError), message: "invalid semver.range '>=one'"},
		{name: "unknown order", spec: Spec{Kind: Numerical, Order: "up"},
			as: new(*SpecError), message: "invalid numerical.order 'up': use asc or desc"},
		{name: "no policy", spec: Spec{},
			as: new(*SpecError), message: "invalid policy '': set one of semver, alphabetical or numerical"},
		{name: "numerical names the offending tags and suggests a pattern",
			tags: []string{"latest", "12", "main-abc-1", "NaN", "Inf", "a", "b", "c"}, spec: Spec{Kind: Numerical},
			as:      new(*ParseError),
			message: "7 of 8 tags do not parse as numbers ('Inf', 'NaN', 'a', 'b', 'c', …): set filterTags.pattern"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Select(tc.tags, tc.spec)
			if err == nil {
				t.Fatalf("Select picked %q, want an error", res.Tag)
			}
			if !errors.As(err, tc.as) {
				t.Errorf("error %T, want %T", err, tc.as)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.message)
			}
			if res.Tag != "" {
				t.Errorf("an error also picked %q", res.Tag)
			}
		})
	}
}

func TestTemplateRefs(t *testing.T) {
	got := templateRefs("$ts-${1}-$$-$01x-${02}-$")
	want := []string{"ts", "1", "01x", "2"}
	if !slices.Equal(got, want) {
		t.Fatalf("refs %v, want %v", got, want)
	}
}

func FuzzPolicies(f *testing.F) {
	f.Add("1.2.3,2.0.0,1.3.0,latest", "", "", uint8(0), ">=1.0.0 <2.0.0", uint64(1))
	f.Add("main-abc-100,main-def-20,dev", `^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "$ts", uint8(2), "", uint64(2))
	f.Add("b,a,c", "", "", uint8(1), "desc", uint64(3))
	f.Add("v1.0.0,1.0.0,1.0.0+x", "^v?(.*)$", "${1}", uint8(0), "*", uint64(4))
	f.Fuzz(func(t *testing.T, list, pattern, extract string, kind uint8, arg string, seed uint64) {
		tags := strings.Split(list, ",")
		spec := Spec{Pattern: pattern, Extract: extract}
		switch kind % 3 {
		case 0:
			spec.Kind, spec.Range = Semver, arg
		case 1:
			spec.Kind, spec.Order = Alphabetical, arg
		default:
			spec.Kind, spec.Order = Numerical, arg
		}
		res, err := Select(tags, spec)
		shuffled := slices.Clone(tags)
		rand.New(rand.NewPCG(seed, seed^0x9e3779b9)).Shuffle(len(shuffled), func(i, j int) {
			shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		})
		res2, err2 := Select(shuffled, spec)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("shuffling changed the error: %v / %v", err, err2)
		}
		if res.Tag != res2.Tag || !slices.Equal(res.Best, res2.Best) {
			t.Fatalf("shuffling changed the pick: %q %v / %q %v", res.Tag, res.Best, res2.Tag, res2.Best)
		}
		if err != nil {
			return
		}
		if !slices.Contains(tags, res.Tag) {
			t.Fatalf("picked %q, not one of the tags", res.Tag)
		}
		if len(res.Best) == 0 || res.Best[0].Tag != res.Tag || len(res.Best) > BestCount {
			t.Fatalf("best %v does not start with the pick %q", res.Best, res.Tag)
		}
	})
}

// parseVersion's strict fast path must give what semver.NewVersion gives:
// the same version, prerelease, metadata and original text, or the same
// refusal.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.2.3", "v1.2.3", "1.2", "v1", "01.2.3", "1.2.3-rc.1+build.5", "1.2.3+meta",
		"1.0.0-alpha.01", "1.0.0-0", "0.0.0", "99999999999999999999.0.0", "1.2.3-", "1.2.3.4", "latest", "", "1.2.3-beta+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gotErr := parseVersion(s)
		want, wantErr := semver.NewVersion(s)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%q: parseVersion error %v, NewVersion error %v", s, gotErr, wantErr)
		}
		if gotErr != nil {
			return
		}
		if !got.Equal(want) || got.Original() != want.Original() || got.Prerelease() != want.Prerelease() ||
			got.Metadata() != want.Metadata() || got.String() != want.String() {
			t.Fatalf("%q: parseVersion %s (%q), NewVersion %s (%q)", s, got, got.Original(), want, want.Original())
		}
	})
}
