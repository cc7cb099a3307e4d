// Package helmvalues composes the values of a HelmRelease the way Flux's
// helm-controller does, and digests them for
// status.lastAttemptedConfigDigest.
//
// The order, from lowest to highest precedence:
//
//  1. every valuesFrom entry without a targetPath, in order: the YAML map at
//     its key (valuesKey, default values.yaml) of a ConfigMap or Secret of the
//     release's namespace, deep-merged over what came before (maps merge,
//     anything else, lists included, is replaced);
//  2. the inline spec.values, merged the same way;
//  3. every valuesFrom entry with a targetPath, in order: the raw value at its
//     key set at that path with Helm's --set syntax (strvals.ParseInto; a value
//     in single or double quotes is set as a string, as --set-string does),
//     or, with literal, verbatim as a string, as --set-literal does.
//
// Flux documents the same order ("when targetPath is set, it will overwrite
// everything before, including inline values"); its code reaches it through
// maps shared between the inline values and the result, which lets a later
// plain entry win over an earlier targetPath in some layouts. Here the order
// above holds in every layout and the caller's maps are never written to.
//
// optional tolerates a missing object or a missing key (Flux since
// helm-controller#589); invalid YAML, a bad targetPath and any read error
// still fail. Chart defaults are not merged here: Helm merges them at
// install and upgrade, as with Flux.
//
// Errors name the entry, kind, namespace, name and key, and the line of
// invalid YAML; never a value.
package helmvalues
