package kinds

import (
	"fmt"
	"strings"

	imagev1 "github.com/driftless/driftless/api/image/v1"
)

// shortRevision is how many characters of a scan revision describe shows.
const shortRevision = 12

// imagePolicySelection is status.selection, a Driftless extension: why
// latestRef is the tag it is, or why no tag could be picked. It is the
// counts and scan of the last evaluation, then the best candidates, best
// first, the picked one marked; none when the policy has no selection
// (nothing evaluated yet, a spec that cannot select).
func imagePolicySelection(p *imagev1.ImagePolicy) []Section {
	sel := p.Status.Selection
	if sel == nil {
		return nil
	}
	pairs := []Pair{{"Tags", selectionCounts(p, sel)}, {"From Scan", short(sel.Revision, shortRevision)}}
	if len(sel.Best) == 0 {
		return []Section{{Title: "Selection", Pairs: append(pairs, Pair{"Picked", "none: " + whyNone(p, sel)})}}
	}
	best := make([]string, len(sel.Best))
	for i, c := range sel.Best {
		best[i] = c.Tag
		if c.Value != "" {
			best[i] = c.Value + " (from " + c.Tag + ")"
		}
	}
	best[0] += "  picked"
	return []Section{{Title: "Selection", Pairs: pairs}, {Title: "Best Tags", List: best}}
}

// selectionCounts reads "40 (12 after the filter, 2 not parsed: a, b)".
func selectionCounts(p *imagev1.ImagePolicy, sel *imagev1.TagSelection) string {
	var notes []string
	if filtered(p) {
		notes = append(notes, fmt.Sprintf("%d after the filter", sel.Filtered))
	}
	if sel.Unparsed > 0 {
		names := strings.Join(sel.UnparsedTags, ", ")
		if sel.Unparsed > len(sel.UnparsedTags) {
			names += ", …"
		}
		notes = append(notes, fmt.Sprintf("%d not parsed: %s", sel.Unparsed, names))
	}
	if len(notes) == 0 {
		return fmt.Sprint(sel.Total)
	}
	return fmt.Sprintf("%d (%s)", sel.Total, strings.Join(notes, ", "))
}

// whyNone says in one line why no tag was picked, from the counts.
func whyNone(p *imagev1.ImagePolicy, sel *imagev1.TagSelection) string {
	left := fmt.Sprint(sel.Total)
	if filtered(p) {
		left = fmt.Sprintf("the %d left after the filter", sel.Filtered)
	}
	switch {
	case sel.Total == 0:
		return "the scan found no tags"
	case filtered(p) && sel.Filtered == 0:
		return fmt.Sprintf("filterTags.pattern matches none of the %d tags", sel.Total)
	case sel.Unparsed > 0 && p.Spec.Policy.SemVer == nil:
		// numerical: one value that is no number fails the policy.
		return fmt.Sprintf("%d of %s do not parse as numbers", sel.Unparsed, left)
	case sel.Unparsed > 0 && sel.Unparsed == sel.Filtered:
		return fmt.Sprintf("none of %s parses as a version", left)
	}
	return fmt.Sprintf("no tag of %s matches %s", left, policyString(p.Spec.Policy))
}

// filtered tells whether the policy has a filterTags.pattern.
func filtered(p *imagev1.ImagePolicy) bool {
	return p.Spec.FilterTags != nil && p.Spec.FilterTags.Pattern != ""
}

// short is s cut to n characters, for a checksum.
func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
