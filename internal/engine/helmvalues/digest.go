package helmvalues

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sort"

	"sigs.k8s.io/yaml"
	goyaml "sigs.k8s.io/yaml/goyaml.v2"
)

// DefaultDigestAlgorithm is the algorithm of Digest, the default of Flux's
// --snapshot-digest-algo.
const DefaultDigestAlgorithm = "sha256"

// Digest returns the digest of values for status.lastAttemptedConfigDigest
// and the history's configDigest, "sha256:<hex>", equal to the one Flux's
// helm-controller records for the same values, so that a release Flux
// installed is not upgraded only because Driftless took it over.
//
// Like Flux, it hashes the values as YAML with every map's keys sorted
// (JSON numbers that are whole written as integers, so 2 and 2.0 agree), and
// empty values as nothing at all: nil and an empty map have the same digest.
// Flux sorts maps only down to maps in lists; here every map is sorted, so
// the digest is the same for equal values in every layout.
//
// Values hold what JSON and YAML decode to (maps, lists, strings, numbers,
// booleans, nil), which always encode; anything the encoder refuses yields
// "", as in Flux, which equals no digest.
func Digest(values map[string]any) string {
	d, err := DigestWith(DefaultDigestAlgorithm, values)
	if err != nil {
		return ""
	}
	return d
}

// DigestWith returns the digest of values with algo: sha256, sha384 or
// sha512, as "<algo>:<hex>".
func DigestWith(algo string, values map[string]any) (string, error) {
	var h hash.Hash
	switch algo {
	case "sha256":
		h = sha256.New()
	case "sha384":
		h = sha512.New384()
	case "sha512":
		h = sha512.New()
	default:
		return "", fmt.Errorf("unsupported digest algorithm '%s': must be sha256, sha384 or sha512", algo)
	}
	if len(values) > 0 {
		doc := yaml.JSONObjectToYAMLObject(values)
		sortKeys(doc)
		if err := encode(h, doc); err != nil {
			return "", fmt.Errorf("encoding values for their digest: %w", err)
		}
	}
	return algo + ":" + hex.EncodeToString(h.Sum(nil)), nil
}

// encode writes doc as YAML to w. The encoder panics on a type it cannot
// write (a func, a channel); that is an error here.
func encode(w io.Writer, doc goyaml.MapSlice) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return goyaml.NewEncoder(w).Encode(doc)
}

// sortKeys sorts every map of a YAML tree by key, at any depth.
func sortKeys(v any) {
	switch v := v.(type) {
	case goyaml.MapSlice:
		sort.Slice(v, func(i, j int) bool { return keyString(v[i].Key) < keyString(v[j].Key) })
		for _, item := range v {
			sortKeys(item.Value)
		}
	case []any:
		for _, item := range v {
			sortKeys(item)
		}
	}
}

// keyString returns a map key as a string: always one, the values being a
// JSON object.
func keyString(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	return fmt.Sprint(k)
}
