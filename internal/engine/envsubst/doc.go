// Package envsubst expands ${var} expressions the way Flux's post-build
// variable substitution does, with bash semantics for every operator.
//
// Supported forms (var names match ^[_[:alpha:]][_[:alpha:][:digit:]]*$):
//
//	${var}                value of var
//	${#var}               length of the value, in characters
//	${var^} ${var^^}      upper-case the first / every character
//	${var,} ${var,,}      lower-case the first / every character
//	                      (an optional pattern restricts which characters
//	                      change, as in bash: ${var^^[ab]})
//	${var:n} ${var:n:len} substring; n and len are integers, negative values
//	                      count from the end (${var: -2}, ${var:(-2)})
//	${var#p} ${var##p}    remove the shortest / longest prefix matching p
//	${var%p} ${var%%p}    remove the shortest / longest suffix matching p
//	${var-def} ${var=def} def when var is unset
//	${var:-def} ${var:=def} def when var is unset or empty
//	${var/p/r}            replace the first longest match of p with r
//	${var//p/r}           replace every match of p with r
//	${var/#p/r} ${var/%p/r} replace a match anchored at the start / end
//
// Patterns are bash globs (*, ?, [...] with ranges, negation by ! or ^ and
// POSIX classes such as [:alpha:]); a backslash quotes the next character,
// so ${var/\//-} replaces a slash.
//
// Choices, where Flux (a fork of drone/envsubst) and bash differ or are
// silent:
//
//   - Words (defaults, patterns, replacements, offsets) may contain nested
//     expressions, as in Flux: ${var:=${other}-suffix}. A default is only
//     expanded when it is used, so an unset variable inside an unused default
//     is not an error, as in bash.
//   - ${var-def} and ${var=def} keep a variable that is set to the empty
//     string, ${var:-def} and ${var:=def} replace it: bash semantics, as
//     documented by Flux (Flux's implementation treats both alike).
//   - ${var=def} and ${var:=def} do not assign: every expression sees only
//     the variables given to Substitute, so the order of fields in a
//     manifest never matters.
//   - Quotes are ordinary characters (a manifest's quotes belong to YAML,
//     not to the shell), and & in a replacement is literal (bash 5.2's
//     patsub_replacement is not emulated).
//   - ${var+x}, ${var:+x}, ${var?x}, ${var:?x}, ${!var}, ${var@op} and arrays
//     are refused with an error, never left half-expanded.
//   - $var without braces is left alone, and $${ produces a literal ${, so
//     $${var} yields ${var}.
//
// Undefined variables: in strict mode (Flux's default since
// kustomize-controller 1.9) a ${var} with no value and no default is an
// error that names the variable; otherwise it expands to the empty string.
// Errors carry the line and column of the expression; all the undefined
// variables of an input are reported together.
//
// Bounds: an expansion writes at most its output budget (Options.MaxOutput,
// by default DefaultMaxOutput: four times the input, at least 1 MiB),
// counting every string it builds, intermediate results included, before
// building it; past it the expansion fails with ErrExpansionTooLarge. Its
// time is bounded by a work limit on pattern matching and on reading large
// values (ErrValue, "expansion exceeds the work limit").
package envsubst
