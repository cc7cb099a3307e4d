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

// maxRuleRegex bounds the length of a rule's regular expression; the ones
// people write are a few dozen bytes.
const maxRuleRegex = 1024

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
		if f.regex && len(v) > maxRuleRegex {
			// Matching costs up to the pattern's size for every key or
			// comment of the document.
			return r, fmt.Errorf("%s is longer than %d bytes", f.name, maxRuleRegex)
		}
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
// whether the value is itself a comment (the last one of the last frame).
// Walks over whole documents use matchKey, matchComment and decide as they
// descend instead, so as to match each key and comment once.
func (r rules) encrypted(path []string, stack [][]string, isComment bool) bool {
	keyMatched := anyMatch(path, r.matchKey)
	above := false
	for i, frame := range stack {
		for j, c := range frame {
			if isComment && i == len(stack)-1 && j == len(frame)-1 {
				return r.commentEncrypted(keyMatched, above, r.matchComment(c))
			}
			above = above || r.matchComment(c)
		}
	}
	return r.decide(keyMatched, above)
}

// matchKey reports whether a key matches a suffix or path regex rule.
func (r rules) matchKey(k string) bool {
	switch r.kind {
	case unencryptedSuffix, encryptedSuffix:
		return strings.HasSuffix(k, r.suffix)
	case unencryptedRegex, encryptedRegex:
		return r.re.MatchString(k)
	}
	return false
}

// matchComment reports whether a comment matches a comment rule.
func (r rules) matchComment(c string) bool {
	if r.usesComments() {
		return r.re.MatchString(c)
	}
	return false
}

// decide says whether a value is encrypted, given whether a key of its path
// matched (keyMatched) and whether a comment above it did (commentMatched).
func (r rules) decide(keyMatched, commentMatched bool) bool {
	switch r.kind {
	case unencryptedSuffix, unencryptedRegex:
		return !keyMatched
	case encryptedSuffix, encryptedRegex:
		return keyMatched
	case unencryptedCommentRegex:
		return !commentMatched
	case encryptedCommentRegex:
		return commentMatched
	}
	return true
}

// commentEncrypted is decide for a comment, which matched itself or not
// (self): a comment marking what follows as unencrypted stays readable
// itself, and so does one marking what follows as encrypted.
func (r rules) commentEncrypted(keyMatched, commentMatched, self bool) bool {
	if r.kind == unencryptedCommentRegex {
		commentMatched = commentMatched || self
	}
	return r.decide(keyMatched, commentMatched)
}

func anyMatch(items []string, match func(string) bool) bool {
	for _, s := range items {
		if match(s) {
			return true
		}
	}
	return false
}
