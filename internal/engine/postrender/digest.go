package postrender

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	v2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
)

// PostRenderersDigest is status.observedPostRenderersDigest for
// spec.postRenderers: "sha256:" and the hex SHA-256 of their JSON encoding
// followed by a newline, as Flux computes it, so a release Flux reconciled
// keeps its digest here. Map keys are encoded sorted, so the digest is
// stable.
func PostRenderersDigest(renderers []v2.PostRenderer) string {
	return digestJSON(renderers)
}

// CommonMetadataDigest is status.observedCommonMetadataDigest for
// spec.commonMetadata, computed as PostRenderersDigest is.
func CommonMetadataDigest(cm *meta.CommonMetadata) string {
	return digestJSON(cm)
}

// Digest covers everything that changes what the post-renderer does to a
// release: spec.postRenderers, spec.commonMetadata and the effective
// spec.postRenderStrategy (so an unset strategy and the one it defaults to
// under helm3Defaults have the same digest). A release whose last digest
// differs needs an upgrade.
func Digest(spec *v2.HelmReleaseSpec, helm3Defaults bool) string {
	strategy, err := Strategy(spec.PostRenderStrategy, helm3Defaults)
	if err != nil {
		// Never the digest of a valid strategy: the release cannot be
		// rendered anyway, and fixing the value must change the digest.
		strategy = "invalid:" + spec.PostRenderStrategy
	}
	return digestJSON(struct {
		PostRenderers  []v2.PostRenderer    `json:"postRenderers"`
		CommonMetadata *meta.CommonMetadata `json:"commonMetadata"`
		Strategy       string               `json:"postRenderStrategy"`
	}{spec.PostRenderers, spec.CommonMetadata, strategy})
}

// digestJSON is "sha256:" and the hex SHA-256 of v's JSON encoding and a
// newline (what json.Encoder writes).
func digestJSON(v any) string {
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(v); err != nil {
		// The API types always encode; a failure is a programming error
		// that must not pass for a digest.
		panic("postrender: encoding for the digest: " + err.Error())
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
