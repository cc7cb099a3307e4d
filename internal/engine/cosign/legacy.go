package cosign

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// simpleSigning is the part of a legacy payload verification reads. JSON
// field names match case-insensitively, as cosign's own decoding does
// (the signature spec spells "Docker-manifest-digest").
type simpleSigning struct {
	Critical struct {
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

// legacy looks for a payload layer at the tag sha256-<hex>.sig whose
// signature annotation a trusted key made over the layer blob, and whose
// critical.image.docker-manifest-digest is the digest.
func (v *verifier) legacy() (Result, bool) {
	tag := v.repo.Tag(v.fallbackTag() + ".sig")
	m, mt, err := v.getManifest(tag)
	if err != nil {
		if isNotFound(err) {
			return Result{}, false
		}
		v.contentOrLookup(fmt.Sprintf("tag %s", tag.TagStr()), err)
		return Result{}, false
	}
	if mt.IsIndex() {
		v.invalid = append(v.invalid, fmt.Sprintf("tag %s is an image index, expected a cosign signature manifest", tag.TagStr()))
		return Result{}, false
	}
	seen := 0
	for _, layer := range m.Layers {
		if layer.MediaType != types.MediaType(SimpleSigningMediaType) {
			continue
		}
		if seen == maxLegacyLayers {
			v.unsupported = append(v.unsupported, fmt.Sprintf("only the first %d signatures of tag %s were read", maxLegacyLayers, tag.TagStr()))
			break
		}
		seen++
		v.legacySeen++
		if res, ok := v.legacyLayer(tag.TagStr(), layer); ok {
			return res, true
		}
	}
	if seen == 0 {
		v.legacySeen++
		v.invalid = append(v.invalid, fmt.Sprintf("tag %s has no %s layer", tag.TagStr(), SimpleSigningMediaType))
	}
	return Result{}, false
}

// legacyLayer checks one payload layer of the signature tag.
func (v *verifier) legacyLayer(tag string, layer v1.Descriptor) (Result, bool) {
	b64 := layer.Annotations[SignatureAnnotation]
	if b64 == "" {
		v.invalid = append(v.invalid, fmt.Sprintf("a layer of tag %s has no %s annotation", tag, SignatureAnnotation))
		return Result{}, false
	}
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		v.invalid = append(v.invalid, fmt.Sprintf("a signature annotation of tag %s is not base64", tag))
		return Result{}, false
	}
	payload, err := v.getBlob(layer)
	if err != nil {
		v.contentOrLookup(fmt.Sprintf("payload %s of tag %s", layer.Digest, tag), err)
		return Result{}, false
	}
	key, ok := v.match(payload, sig)
	if !ok {
		if layer.Annotations[CertificateAnnotation] != "" {
			v.keyless++
		} else {
			v.unverified++
		}
		return Result{}, false
	}
	var p simpleSigning
	if err := json.Unmarshal(payload, &p); err != nil {
		v.invalid = append(v.invalid, fmt.Sprintf("payload %s of tag %s is not simple-signing JSON: %v", layer.Digest, tag, err))
		return Result{}, false
	}
	claimed := p.Critical.Image.DockerManifestDigest
	if claimed == v.digest.String() {
		return v.result(FormatLegacy, key), true
	}
	if claimed == "" {
		claimed = "no critical.image.docker-manifest-digest"
	}
	v.otherDigests = append(v.otherDigests, claimed)
	return Result{}, false
}
