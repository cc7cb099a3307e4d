package envsubst

import (
	"errors"
	"strings"
	"testing"
)

// testVars are the variables of every table case.
var testVars = map[string]string{
	"var01":       "abcdEFGH28ij",
	"upper":       "ABCDEFGH28IJ",
	"path_name":   "/home/bozo/ideas/thoughts.for.today",
	"stringZ":     "abcABC123ABCabc",
	"filename":    "bash.string.txt",
	"relpath":     "path/to/file",
	"abspath":     "/path/to/file",
	"default_var": "foo",
	"slashed":     "foo/bar/baz",
	"dotted":      "foo.bar",
	"x":           "abc",
	"six":         "abcdef",
	"empty":       "",
	"unicode":     "ÀbÇ",
	"digits":      "a1b22c333",
	"bracket":     "a[b",
	"glob":        "b*",
	"abcb":        "abcb",
	"n":           "2",
	"spaced":      "hello world",
	"region":      "eu-west-1",
	"replicas":    "3",
}

// substCase is one expansion and its expected result. bash marks the cases
// that bash itself expands the same way (checked by TestAgreesWithBash).
type substCase struct {
	name    string
	in      string
	strict  bool
	want    string
	wantErr error
	errHas  []string
	bash    bool
}

var substCases = []substCase{
	// Plain text and the forms Flux documents.
	{name: "text", in: "abcdEFGH28ij", want: "abcdEFGH28ij", bash: true},
	{name: "value", in: "${var01}", want: "abcdEFGH28ij", bash: true},
	{name: "length", in: "${#var01}", want: "12", bash: true},
	{name: "upper first", in: "${var01^}", want: "AbcdEFGH28ij", bash: true},
	{name: "upper all", in: "${var01^^}", want: "ABCDEFGH28IJ", bash: true},
	{name: "lower first", in: "${upper,}", want: "aBCDEFGH28IJ", bash: true},
	{name: "lower all", in: "${upper,,}", want: "abcdefgh28ij", bash: true},
	{name: "offset", in: "${path_name:11}", want: "ideas/thoughts.for.today", bash: true},
	{name: "offset and length", in: "${path_name:11:5}", want: "ideas", bash: true},
	{name: "default not used", in: "${x=xyz}", want: "abc", bash: true},
	{name: "default used", in: "${nope=xyz}", want: "xyz", bash: true},
	{name: "nested default", in: "something ${nope=${default_var}}", want: "something foo", bash: true},
	{name: "nested default suffix", in: "foo: ${nope=${default_var}-suffix}", want: "foo: foo-suffix", bash: true},
	{name: "nested default both", in: "foo: ${nope=prefix${default_var}-suffix}", want: "foo: prefixfoo-suffix", bash: true},
	{name: "colon default", in: "${nope:=xyz}", want: "xyz", bash: true},
	{name: "replace suffix", in: "${stringZ/%abc/XYZ}", want: "abcABC123ABCXYZ", bash: true},
	{name: "replace prefix", in: "${stringZ/#abc/XYZ}", want: "XYZABC123ABCabc", bash: true},
	{name: "prepend", in: "${x/#/prefix-}", want: "prefix-abc", bash: true},
	{name: "append", in: "${x/%/-suffix}", want: "abc-suffix", bash: true},
	{name: "replace all", in: "${stringZ//abc/xyz}", want: "xyzABC123ABCxyz", bash: true},
	{name: "replace first", in: "${stringZ/abc/xyz}", want: "xyzABC123ABCabc", bash: true},
	{name: "shortest prefix", in: "${filename#*.}", want: "string.txt", bash: true},
	{name: "shortest prefix path", in: "${relpath#*/}", want: "to/file", bash: true},
	{name: "shortest prefix abs", in: "${abspath#*/}", want: "path/to/file", bash: true},
	{name: "longest prefix", in: "${filename##*.}", want: "txt", bash: true},
	{name: "longest prefix path", in: "${relpath##*/}", want: "file", bash: true},
	{name: "shortest suffix", in: "${filename%.*}", want: "bash.string", bash: true},
	{name: "longest suffix", in: "${filename%%.*}", want: "bash", bash: true},
	{name: "nested operator", in: "${nope=${var01^^}}", want: "ABCDEFGH28IJ", bash: true},
	{name: "delete dot", in: "${dotted/./}", want: "foobar", bash: true},
	{name: "escaped slash", in: `${slashed/\//-}`, want: "foo-bar/baz"},
	{name: "escaped slash all", in: `${slashed//\//-}`, want: "foo-bar-baz"},
	{name: "escaped star", in: `${abcb/\*/-}${glob/\*/-}`, want: "abcbb-"},

	// Escapes and text that is not an expression.
	{name: "escape", in: "$${var01}", want: "${var01}"},
	{name: "escape mixed", in: "some text ${var01}$${var$${var01}$var01${var01}",
		want: "some text abcdEFGH28ij${var${var01}$var01abcdEFGH28ij"},
	{name: "escape with nested", in: "something $${var=${default_var}}", want: "something ${var=foo}"},
	{name: "backslashes outside", in: `\\something ${nope=${default_var}}`, want: `\\something foo`},
	{name: "dollar without brace", in: "$x and ${x} cost $5 $", want: "$x and abc cost $5 $"},
	{name: "adjacent", in: "${x}${x}-${x}", want: "abcabc-abc", bash: true},
	{name: "multiline", in: "a: ${x}\nb:\n  - ${region}\n", want: "a: abc\nb:\n  - eu-west-1\n", bash: true},

	// Bash semantics the table of Flux does not show.
	{name: "dash keeps empty", in: "[${empty-def}]", want: "[]", bash: true},
	{name: "equals keeps empty", in: "[${empty=def}]", want: "[]", bash: true},
	{name: "colon dash replaces empty", in: "${empty:-def}", want: "def", bash: true},
	{name: "colon equals replaces empty", in: "${empty:=def}", want: "def", bash: true},
	{name: "braces in default", in: "${nope:-{a}}", want: "{a}", bash: true},
	{name: "quoted brace in default", in: `${nope:-a\}b}`, want: "a}b"},
	{name: "negative offset", in: "${x: -2}", want: "bc", bash: true},
	{name: "parenthesised offset", in: "${x:(-2)}", want: "bc", bash: true},
	{name: "negative length", in: "${x:1:-1}", want: "b", bash: true},
	{name: "offset past end", in: "[${x:5}]", want: "[]", bash: true},
	{name: "negative offset past start", in: "[${x: -5}]", want: "[]", bash: true},
	{name: "empty length", in: "[${x:1:}]", want: "[]", bash: true},
	{name: "spaces around numbers", in: "[${six:  1 : 2 }]", want: "[bc]", bash: true},
	{name: "length past end", in: "${six:2:100}", want: "cdef", bash: true},
	{name: "zero length at end", in: "[${six:4:-2}]", want: "[]", bash: true},
	{name: "nested offset", in: "${six:${n}}", want: "cdef", bash: true},
	{name: "upper with pattern", in: "${x^^[ab]}", want: "ABc", bash: true},
	{name: "upper first only first", in: "${x^[b]}", want: "abc", bash: true},
	{name: "lower with range", in: "${upper,,[A-C]}", want: "abcDEFGH28IJ", bash: true},
	{name: "case of empty", in: "[${empty^^}][${#empty}]", want: "[][0]", bash: true},
	{name: "unicode length", in: "${#unicode}", want: "3", bash: true},
	{name: "unicode lower", in: "${unicode,,}", want: "àbç", bash: true},
	{name: "unicode substring", in: "${unicode:1:1}", want: "b", bash: true},
	{name: "unicode replace", in: "${unicode/b/β}", want: "ÀβÇ", bash: true},
	{name: "star replaces all", in: "${x/*/y}", want: "y", bash: true},
	{name: "star replaces all global", in: "${x//*/y}", want: "y", bash: true},
	{name: "star on empty", in: "${empty/*/y}", want: "y", bash: true},
	{name: "prepend to empty", in: "${empty/#/p}", want: "p", bash: true},
	{name: "empty pattern all", in: "${x//}", want: "abc", bash: true},
	{name: "empty pattern first", in: "${x/}", want: "abc", bash: true},
	{name: "empty trims", in: "${six#}${six%}", want: "abcdefabcdef", bash: true},
	{name: "trim everything", in: "[${six##*}][${six%%*}][${six#*}]", want: "[][][abcdef]", bash: true},
	{name: "anchored glob prefix", in: "${six/#a*/Z}", want: "Z", bash: true},
	{name: "anchored glob suffix", in: "${six/%c*/Z}", want: "abZ", bash: true},
	{name: "glob in middle", in: "${six/c*d/Z}", want: "abZef", bash: true},
	{name: "class all", in: "${six//[ace]/_}", want: "_b_d_f", bash: true},
	{name: "any all", in: "${six//?/-}", want: "------", bash: true},
	{name: "longest from leftmost", in: "${abcb/b*/Q}", want: "aQ", bash: true},
	{name: "delete match", in: "${abcb/b/}", want: "acb", bash: true},
	{name: "delete all matches", in: "${abcb//b}", want: "ac", bash: true},
	{name: "posix class", in: "${digits//[[:digit:]]/}", want: "abc", bash: true},
	{name: "negated posix class", in: "${digits//[![:alpha:]]/.}", want: "a.b..c...", bash: true},
	{name: "caret negation", in: "${digits//[^a-b]/}", want: "ab", bash: true},
	{name: "glob from variable", in: "${abcb/${glob}/Z}", want: "aZ", bash: true},
	{name: "unterminated bracket is literal", in: "${bracket//[/-}", want: "a-b", bash: true},
	{name: "shortest suffix glob", in: "${digits%[0-9]*}", want: "a1b22c33", bash: true},
	{name: "longest suffix glob", in: "${digits%%[0-9]*}", want: "a", bash: true},
	{name: "replace with space", in: "${spaced// /_}", want: "hello_world", bash: true},
	{name: "quotes are literal", in: `${nope:-"quoted"}`, want: `"quoted"`},
	{name: "ampersand literal", in: "${x/b/&&}", want: "a&&c"},
	{name: "unused default with unset var", in: "${x:-${missing}}", strict: true, want: "abc"},
	{name: "unused replacement is still expanded", in: "${x/z/${replicas}}", strict: true, want: "abc"},
	{name: "strict empty is fine", in: "[${empty}]", strict: true, want: "[]"},
	{name: "strict default", in: "${missing:=default}", strict: true, want: "default"},
	{name: "strict empty default", in: "[${missing-}]", strict: true, want: "[]"},
	{name: "lenient unset", in: "[${missing}][${missing^^}][${#missing}][${missing/a/b}]", want: "[][][0][]", bash: true},

	// Errors.
	{name: "strict unset", in: "${missing}", strict: true, wantErr: ErrUnset,
		errHas: []string{`line 1, column 1: ${missing}: variable "missing" is not set`}},
	{name: "strict unset position", in: "a: 1\nb: ${nope}\nc: ${x}", strict: true, wantErr: ErrUnset,
		errHas: []string{"line 2, column 4", `"nope"`}},
	{name: "strict unset column counts characters", in: "é: ${nope}", strict: true, wantErr: ErrUnset,
		errHas: []string{"line 1, column 4"}},
	{name: "strict nested unset in used default", in: "${nope:-${inner}}", strict: true, wantErr: ErrUnset,
		errHas: []string{`"inner"`, "column 9"}},
	{name: "strict several unset", in: "${one} ${two} ${one}", strict: true, wantErr: ErrUnset,
		errHas: []string{`"one"`, `"two"`, "column 8", "; "}},
	{name: "plus", in: "${x+a}", wantErr: ErrUnsupported, errHas: []string{"line 1, column 1: ${x+a}: the ${var+word} form is not supported"}},
	{name: "colon plus", in: "${x:+${y}a}b", wantErr: ErrUnsupported, errHas: []string{"${x:+${y}a}: the ${var:+word} form is not supported"}},
	{name: "colon question", in: "${x:?a", wantErr: ErrUnsupported, errHas: []string{"${x:?: the ${var:?word} form"}},
	{name: "question", in: "${x?a}", wantErr: ErrUnsupported},
	{name: "indirect", in: "${!x}", wantErr: ErrUnsupported, errHas: []string{"${!x}: indirect"}},
	{name: "transformation", in: "${x@Q}", wantErr: ErrUnsupported},
	{name: "array", in: "${x[0]}", wantErr: ErrUnsupported},
	{name: "empty name", in: "a ${} b", wantErr: ErrSyntax, errHas: []string{"line 1, column 3: ${}: empty variable name"}},
	{name: "digit name", in: "${1x}", wantErr: ErrSyntax, errHas: []string{"invalid variable name starting with '1'"}},
	{name: "space before name", in: "${ x}", wantErr: ErrSyntax},
	{name: "dot in name", in: "${x.y}", wantErr: ErrSyntax, errHas: []string{`unexpected '.' after variable name "x"`}},
	{name: "unterminated", in: "k: ${x", wantErr: ErrSyntax, errHas: []string{"line 1, column 4", "missing '}'"}},
	{name: "unterminated default", in: "${x:-abc", wantErr: ErrSyntax, errHas: []string{"missing '}'"}},
	{name: "unterminated nested", in: "${x:-${y}", wantErr: ErrSyntax},
	{name: "length with operator", in: "${#x:-1}", wantErr: ErrSyntax},
	{name: "length of nothing", in: "${#}", wantErr: ErrSyntax},
	{name: "empty offset", in: "${x:}", wantErr: ErrSyntax, errHas: []string{"missing substring offset"}},
	{name: "syntax error in unused default", in: "${x:-${}}", wantErr: ErrSyntax},
	{name: "offset not a number", in: "${x:a}", wantErr: ErrValue, errHas: []string{`offset "a" is not an integer`}},
	{name: "end before start", in: "${six:4:-3}", wantErr: ErrValue, errHas: []string{"substring end 3 comes before its start 4"}},
	{name: "long expression shortened", in: "${" + strings.Repeat("a", 100) + "}", strict: true, wantErr: ErrUnset,
		errHas: []string{"${" + strings.Repeat("a", 58) + "...:"}},
}

func TestSubstitute(t *testing.T) {
	for _, tc := range substCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Substitute(tc.in, testVars, tc.strict)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Substitute(%q) failed: %v", tc.in, err)
				}
				if got != tc.want {
					t.Fatalf("Substitute(%q) = %q, want %q", tc.in, got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Substitute(%q) = %q, want an error", tc.in, got)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Substitute(%q) error %q is not %v", tc.in, err, tc.wantErr)
			}
			var one *Error
			if !errors.As(err, &one) {
				t.Fatalf("Substitute(%q) error %T is not an *Error", tc.in, err)
			}
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestStrictUnsetWithEveryOperator(t *testing.T) {
	for _, in := range []string{
		"${missing}", "${#missing}", "${missing^}", "${missing^^}", "${missing,}", "${missing,,}",
		"${missing:0}", "${missing:0:10}", "${missing/p/r}", "${missing//p/r}", "${missing/#p/r}",
		"${missing/%p/r}", "${missing#p}", "${missing##p}", "${missing%p}", "${missing%%p}",
	} {
		_, err := Substitute(in, nil, true)
		var e *Error
		if !errors.Is(err, ErrUnset) || !errors.As(err, &e) || e.Var != "missing" {
			t.Errorf("Substitute(%q, strict) error = %v, want ErrUnset naming missing", in, err)
		}
		got, err := Substitute(in, nil, false)
		if err != nil || (got != "" && got != "0") {
			t.Errorf("Substitute(%q, lenient) = %q, %v; want empty", in, got, err)
		}
	}
}

func TestErrorsAreCapped(t *testing.T) {
	in := strings.Repeat("${missing} ", 50)
	_, err := Substitute(in, nil, true)
	var es Errors
	if !errors.As(err, &es) || len(es) != maxErrors {
		t.Fatalf("got %T with %v, want %d errors", err, err, maxErrors)
	}
}

func TestWorkBudget(t *testing.T) {
	vars := map[string]string{"big": strings.Repeat("a", 20000)}
	_, err := Substitute("${big//*?b/x}", vars, true)
	if !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), "work limit") {
		t.Fatalf("error = %v, want the work limit", err)
	}
	// A literal pattern over the same value takes the fast path.
	got, err := Substitute("${big//a/b}", vars, true)
	if err != nil || got != strings.Repeat("b", 20000) {
		t.Fatalf("literal replace failed: %v", err)
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"a": true, "_": true, "A_1": true, "cluster_env": true,
		"": false, "1a": false, "a-b": false, "a.b": false, "é": false, "a b": false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
		if err := ValidateName(name); (err == nil) != want {
			t.Errorf("ValidateName(%q) = %v", name, err)
		} else if err != nil && !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("ValidateName(%q) error %q does not name it", name, err)
		}
	}
}
