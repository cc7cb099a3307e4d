package helmrelease

// What a failed install or upgrade says: Helm's error, without the values
// it may quote, and with what to do where Helm's words do not say it.

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
)

// hiddenValue stands for a value a message must not show.
const hiddenValue = "(value hidden)"

// actionError is the message of a failed install or upgrade of obj: Helm's
// error with the values a values.schema.json error quotes hidden, and a
// hint for a record name taken by a Secret that is not a record, or a
// target namespace that does not exist. last is the latest readable
// record after the action, nil when there is none.
func actionError(err error, obj *helmv2.HelmRelease, act helmv2.ReleaseAction, values map[string]any, last *helmrelease.Release) string {
	msg := hideSchemaValues(err.Error(), values)
	if errors.Is(err, driver.ErrReleaseExists) {
		version := 1
		if act == helmv2.ReleaseActionUpgrade && last != nil {
			version = last.Version + 1
		}
		msg += fmt.Sprintf(": Secret %s/sh.helm.release.v1.%s.v%d exists but is not a Helm release record Helm can read "+
			"(it lacks the owner=helm label or its data does not decode); it is left untouched: delete or rename it to let the release be written",
			obj.GetStorageNamespace(), obj.GetReleaseName(), version)
	}
	ns := obj.GetReleaseNamespace()
	if act == helmv2.ReleaseActionInstall && strings.Contains(msg, `namespaces "`+ns+`" not found`) &&
		(obj.Spec.Install == nil || !obj.Spec.Install.CreateNamespace) {
		msg += fmt.Sprintf("; create namespace %q, or set spec.install.createNamespace: true", ns)
	}
	return msg
}

// wroteRecord tells whether a failed install or upgrade wrote a record of
// its own (failed, or left pending), which remediation acts on. One that
// failed before (values refused by the chart's schema, a template or
// post-renderer error, a record name taken) changed nothing in the
// cluster: there is nothing to roll back or uninstall.
func wroteRecord(last *helmrelease.Release) bool {
	return last != nil && last.Info != nil && (last.Info.Status == common.StatusFailed || last.Info.Status.IsPending())
}

// schemaErrorLine is a line of a values.schema.json error, as Helm's
// validator prints it: "- at '<JSON pointer>': <what is wrong>".
var schemaErrorLine = regexp.MustCompile(`^(\s*- at '([^']*)': )(.*)$`)

// jsonTypes are the words a type error says it got.
var jsonTypes = map[string]bool{"null": true, "boolean": true, "number": true, "integer": true, "string": true, "array": true, "object": true}

// hideSchemaValues hides, in the lines of a values.schema.json error, the
// values they quote: a "pattern" or "format" error quotes the refused
// string, a "minimum" or "maximum" one the refused number. The values may
// come from a Secret (valuesFrom); conditions and events are read and
// forwarded more widely than Secrets. The path and the rule stay.
func hideSchemaValues(msg string, values map[string]any) string {
	if !strings.Contains(msg, "- at '") {
		return msg
	}
	var strs []string
	collectStrings(values, &strs)
	lines := strings.Split(msg, "\n")
	for i, line := range lines {
		m := schemaErrorLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		prefix, what := m[1], m[3]
		if v, ok := lookup(values, m[2]); ok {
			what = hideValue(what, v)
		}
		// A subchart's values sit under its name, and a value may be
		// quoted by a rule of another path: every string value goes.
		for _, s := range strs {
			what = strings.ReplaceAll(what, quoteLikeValidator(s), hiddenValue)
		}
		lines[i] = prefix + what
	}
	return strings.Join(lines, "\n")
}

// hideValue hides v in what, as the validator prints it: quoted when a
// string, after "got " when a number.
func hideValue(what string, v any) string {
	switch v := v.(type) {
	case string:
		return strings.Replace(what, quoteLikeValidator(v), hiddenValue, 1)
	case map[string]any, []any, nil, bool:
		return what
	}
	// A number: "minimum: got 80, want 1,024" (printed localized, so
	// matched by position, not by its text).
	i := strings.Index(what, "got ")
	if i < 0 {
		return what
	}
	rest := what[i+len("got "):]
	end := strings.Index(rest, ", want")
	if end < 0 || jsonTypes[rest[:end]] {
		return what
	}
	return what[:i] + "got " + hiddenValue + rest[end:]
}

// quoteLikeValidator quotes s as the schema validator does: Go quoting
// with single quotes outside.
func quoteLikeValidator(s string) string {
	q := strconv.Quote(s)
	q = strings.ReplaceAll(q, `\"`, `"`)
	q = strings.ReplaceAll(q, `'`, `\'`)
	return "'" + q[1:len(q)-1] + "'"
}

// lookup resolves a JSON pointer in values.
func lookup(values map[string]any, pointer string) (any, bool) {
	var cur any = values
	if pointer == "" {
		return cur, true
	}
	for _, seg := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[seg]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			n, err := strconv.Atoi(seg)
			if err != nil || n < 0 || n >= len(c) {
				return nil, false
			}
			cur = c[n]
		default:
			return nil, false
		}
	}
	return cur, true
}

// collectStrings gathers the non-empty string values under v.
func collectStrings(v any, out *[]string) {
	switch v := v.(type) {
	case string:
		if v != "" {
			*out = append(*out, v)
		}
	case map[string]any:
		for _, e := range v {
			collectStrings(e, out)
		}
	case []any:
		for _, e := range v {
			collectStrings(e, out)
		}
	}
}
