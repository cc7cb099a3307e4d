package helmvalues

import (
	"fmt"
	"regexp"
	"strings"

	"helm.sh/helm/v4/pkg/strvals"
)

// maxTargetPath and targetPathPattern are the API's validation of
// targetPath, checked again here so that a path that bypassed the API
// server cannot reach the --set parser with '=' or ',' in it.
const maxTargetPath = 250

var targetPathPattern = regexp.MustCompile(`^([a-zA-Z0-9_\-.\\/]|\[[0-9]{1,5}\])+$`)

// checkTargetPath says what is wrong with path, or nil.
func checkTargetPath(path string) error {
	if len(path) > maxTargetPath {
		return fmt.Errorf("longer than %d characters", maxTargetPath)
	}
	if !targetPathPattern.MatchString(path) {
		return fmt.Errorf(`must match %s`, targetPathPattern)
	}
	return nil
}

// setPath sets raw at path in values with Helm's --set syntax, as Flux
// does: the value as `helm --set path=raw` reads it (so {a,b} is a list,
// true a bool and a\,b the string "a,b"), except that a value in single or
// double quotes is set as a string without them (`--set-string`). With
// literal, raw is set verbatim as a string, as `helm --set-literal` does.
//
// Literal escapes raw for the string parser rather than using Helm's literal
// parser, whose path syntax has no backslash escapes: a targetPath such as
// nodeSelector.kubernetes\.io/role must mean the same key in both modes.
func setPath(values map[string]any, path, raw string, literal bool) error {
	switch {
	case literal:
		return strvals.ParseIntoString(path+"="+escapeValue(raw), values)
	case isQuoted(raw):
		return strvals.ParseIntoString(path+"="+strings.Trim(raw, `'"`), values)
	default:
		return strvals.ParseInto(path+"="+raw, values)
	}
}

// isQuoted reports whether raw starts and ends with the same kind of quote.
func isQuoted(raw string) bool {
	for _, q := range []string{"'", `"`} {
		if strings.HasPrefix(raw, q) && strings.HasSuffix(raw, q) {
			return true
		}
	}
	return false
}

// escapeValue backslash-escapes every character the --set value parser
// reads as syntax: the escape itself, the separator and list braces.
func escapeValue(raw string) string {
	var b strings.Builder
	b.Grow(len(raw) + len(raw)/8)
	for _, r := range raw {
		switch r {
		case '\\', ',', '{', '}':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// setProblem says why the --set parser refused, without the value: its own
// message redacted, or, for the type assertion it recovers from, what that
// means.
func setProblem(err error) string {
	if strings.Contains(err.Error(), "interface conversion") {
		return "the path goes through a value that is not a map or a list"
	}
	return redact(err.Error())
}
