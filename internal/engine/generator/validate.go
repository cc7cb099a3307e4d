package generator

import (
	"fmt"
	"strings"
)

// validate checks what the spec alone decides, before anything is
// written: aliases exist, paths are confined, strategies and excludes are
// valid, names carry placeholders only with a pathPattern.
func validate(byAlias map[string]Source, spec Spec) error {
	if len(spec.Outputs) == 0 {
		return opContext{}.invalid("", "spec has no artifacts; add at least one")
	}
	seen := map[string]bool{}
	for _, o := range spec.Outputs {
		c := opContext{artifact: o.Name}
		if spec.PathPattern == "" && strings.ContainsAny(o.Name, "{}") {
			return c.invalid("", "name has a {{ .capture }} template but the spec has no pathPattern; set pathPattern or use a plain name")
		}
		if seen[o.Name] {
			return c.invalid("", "duplicate artifact name; give every artifact its own name")
		}
		seen[o.Name] = true
		for field, v := range map[string]string{"revision": o.Revision, "originRevision": o.OriginRevision} {
			if v == "" {
				continue
			}
			if _, ok := byAlias[strings.TrimPrefix(v, "@")]; !strings.HasPrefix(v, "@") || !ok {
				return c.invalid(v, "%s must name a source as @alias; add the source or fix the alias", field)
			}
		}
		if len(o.Copy) == 0 {
			return c.invalid("", "artifact has no copy operations; add at least one")
		}
		for i, cp := range o.Copy {
			if err := validateCopy(byAlias, c, i, cp); err != nil {
				return err
			}
		}
	}
	return nil
}

// validateCopy checks one copy operation's aliases, paths, excludes and
// strategy.
func validateCopy(byAlias map[string]Source, c opContext, i int, cp Copy) error {
	c.op = fmt.Sprintf("copy[%d] %s -> %s", i, cp.From, cp.To)
	fr, err := parseRef(c, "from", cp.From)
	if err != nil {
		return err
	}
	if _, ok := byAlias[fr.alias]; !ok {
		return c.invalid(cp.From, "from names unknown source alias @%s; add it to sources or fix the alias", fr.alias)
	}
	if cp.To != "@"+artifactAlias && !strings.HasPrefix(cp.To, "@"+artifactAlias+"/") {
		return c.invalid(cp.To, "to must start with @artifact/, as in @artifact/dir/")
	}
	if _, err := parseRef(c, "to", cp.To); err != nil {
		return err
	}
	switch cp.Strategy {
	case "", StrategyOverwrite, StrategyMerge, StrategyExtract:
	default:
		return c.invalid("", "unknown strategy %q; use Overwrite, Merge or Extract", cp.Strategy)
	}
	for _, x := range cp.Exclude {
		if !validGlob(x) || strings.Contains(x, "..") {
			return c.invalid(x, "exclude is not a valid glob inside the source")
		}
	}
	return nil
}
