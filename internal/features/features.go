// Package features parses --feature-gates, Flux's comma-separated
// Name=bool list, and checks it against the gates the selected controller
// groups know. One driftless-controller process runs several of Flux's
// controllers, so a gate known to several groups applies to all of them;
// each group keeps its own default (Flux's, per controller).
package features

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Gate is a feature gate a controller group knows.
type Gate struct {
	// Name as --feature-gates spells it: "OOMWatch".
	Name string
	// Default is the gate's value when --feature-gates does not name it.
	Default bool
	// Unsupported, when not empty, says why Driftless cannot honour the
	// gate set away from its default: that value is refused with this
	// reason, the default (what Driftless does) is accepted.
	Unsupported string
}

// Values are the gates --feature-gates names, with the value it gives
// each. It is a pflag.Value.
type Values map[string]bool

// Enabled is g's value: the one --feature-gates gives it, else its default.
func (v Values) Enabled(g Gate) bool {
	if on, ok := v[g.Name]; ok {
		return on
	}
	return g.Default
}

// Set parses "A=true,B=false" into v (pflag.Value); a later entry for the
// same gate wins, and a repeated flag adds to the earlier ones, as
// Kubernetes components do.
func (v *Values) Set(s string) error {
	if *v == nil {
		*v = Values{}
	}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, value, ok := strings.Cut(entry, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return fmt.Errorf("--feature-gates entry %q is not Name=true or Name=false", entry)
		}
		on, err := strconv.ParseBool(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("--feature-gates %s=%q: the value must be true or false", name, strings.TrimSpace(value))
		}
		(*v)[name] = on
	}
	return nil
}

// String lists the gates set, sorted (pflag.Value).
func (v *Values) String() string {
	if v == nil || len(*v) == 0 {
		return ""
	}
	names := make([]string, 0, len(*v))
	for n := range *v {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + strconv.FormatBool((*v)[n])
	}
	return strings.Join(parts, ",")
}

// Type is pflag's name of the value's type.
func (*Values) Type() string { return "mapStringBool" }

// Check refuses a gate that none of known names (listing the known ones),
// and an unsupported gate set away from its default (saying why).
func (v Values) Check(known []Gate) error {
	names := make([]string, 0, len(v))
	for n := range v {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		i := slices.IndexFunc(known, func(g Gate) bool { return g.Name == n })
		if i < 0 {
			return fmt.Errorf("unknown feature gate %q in --feature-gates; the selected controllers know: %s", n, Names(known))
		}
		for _, g := range known {
			if g.Name == n && g.Unsupported != "" && v[n] != g.Default {
				return fmt.Errorf("feature gate %s=%t is not supported: %s; remove it or set it to %t", n, v[n], g.Unsupported, g.Default)
			}
		}
	}
	return nil
}

// Names lists the gates' names, sorted and without repeats, each with its
// default: "A=false, B=true". A gate two groups know with different
// defaults shows both.
func Names(gates []Gate) string {
	var out []string
	for _, g := range gates {
		s := g.Name + "=" + strconv.FormatBool(g.Default)
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "(none)"
	}
	return strings.Join(out, ", ")
}
