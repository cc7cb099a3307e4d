package sops

import (
	"fmt"
	"regexp"
	"strings"
)

// ruleKind is which of SOPS's mutually exclusive partial-encryption settings a
// document uses.
type ruleKind int

const (
	unencryptedSuffix ruleKind = iota
	encryptedSuffix
	unencryptedRegex
	encryptedRegex
	unencryptedCommentRegex
	encryptedCommentRegex
)

// defaultUnencryptedSuffix applies when a document names no rule.
const defaultUnencryptedSuffix = "_unencrypted"

// rules decides which values of a document are encrypted, from the key path
// of a value and the comments above it.
type rules struct {
	kind   ruleKind
	suffix string
	re     *regexp.Regexp
}

// ruleFields are the metadata fields naming a rule, in the order SOPS lists
// them; at most one may be set.
var ruleFields = []struct {
	name  string
	kind  ruleKind
	regex bool
}{
	{"unencrypted_suffix", unencryptedSuffix, false},
	{"encrypted_suffix", encryptedSuffix, false},
	{"unencrypted_regex", unencryptedRegex, true},
	{"encrypted_regex", encryptedRegex, true},
	{"unencrypted_comment_regex", unencryptedCommentRegex, true},
	{"encrypted_comment_regex", encryptedCommentRegex, true},
}

// parseRules reads the rule of a metadata map; get returns a field's string
// value and whether it is set.
func parseRules(get func(string) (string, error)) (rules, error) {
	r := rules{kind: unencryptedSuffix, suffix: defaultUnencryptedSuffix}
	var set []string
	for _, f := range ruleFields {
		v, err := get(f.name)
		if err != nil {
			return r, err
		}
		if v == "" {
			continue
		}
		set = append(set, f.name)
		r = rules{kind: f.kind, suffix: v}
		if f.regex {
			re, err := regexp.Compile(v)
			if err != nil {
				return r, fmt.Errorf("%s is not a valid regular expression: %w", f.name, err)
			}
			r.re = re
		}
	}
	if len(set) > 1 {
		return r, fmt.Errorf("only one of %s may be set, found %s", ruleNames(), strings.Join(set, " and "))
	}
	return r, nil
}

func ruleNames() string {
	names := make([]string, len(ruleFields))
	for i, f := range ruleFields {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

// usesComments reports whether the rule depends on comments, which objects
// (decoded from JSON) no longer have.
func (r rules) usesComments() bool {
	return r.kind == unencryptedCommentRegex || r.kind == encryptedCommentRegex
}

// encrypted reports whether the value at path is encrypted. stack holds the
// comments seen above the value, one frame per nesting level; isComment says
// whether the value is itself a comment.
func (r rules) encrypted(path []string, stack [][]string, isComment bool) bool {
	switch r.kind {
	case unencryptedSuffix:
		return !anyMatch(path, func(p string) bool { return strings.HasSuffix(p, r.suffix) })
	case encryptedSuffix:
		return anyMatch(path, func(p string) bool { return strings.HasSuffix(p, r.suffix) })
	case unencryptedRegex:
		return !anyMatch(path, r.re.MatchString)
	case encryptedRegex:
		return anyMatch(path, r.re.MatchString)
	case unencryptedCommentRegex:
		for _, frame := range stack {
			if anyMatch(frame, r.re.MatchString) {
				return false
			}
		}
		return true
	case encryptedCommentRegex:
		// A comment matching the regex marks what follows it; the marking
		// comment itself (the last one seen) stays readable.
		for i, frame := range stack {
			for j, c := range frame {
				if isComment && i == len(stack)-1 && j == len(frame)-1 {
					continue
				}
				if r.re.MatchString(c) {
					return true
				}
			}
		}
		return false
	}
	return true
}

func anyMatch(items []string, match func(string) bool) bool {
	for _, s := range items {
		if match(s) {
			return true
		}
	}
	return false
}
