package v1

import "github.com/driftless/driftless/api/meta"

// Values of the verify.provider field of OCIRepository and HelmChart.
const (
	// VerificationProviderCosign verifies Sigstore cosign signatures, keyed
	// or keyless.
	VerificationProviderCosign string = "cosign"
	// VerificationProviderNotation verifies Notary Project signatures.
	VerificationProviderNotation string = "notation"
)

// OCIRepositoryVerification configures signature verification of an OCI
// artifact pulled by an OCIRepository.
type OCIRepositoryVerification struct {
	// Provider is the signing technology: 'cosign' (the default) or 'notation'.
	// +kubebuilder:validation:Enum=cosign;notation
	// +kubebuilder:default:=cosign
	Provider string `json:"provider"`

	// SecretRef names a Secret with the trusted public keys (cosign) or the
	// trust policy and certificates (notation). Without it, cosign verifies
	// keyless signatures.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// MatchOIDCIdentity restricts keyless cosign verification to signatures
	// whose certificate matches at least one of these issuer/subject pairs.
	// +optional
	MatchOIDCIdentity []OIDCIdentityMatch `json:"matchOIDCIdentity,omitempty"`

	// TrustedRootSecretRef names a Secret with a 'trusted_root.json' key
	// describing a self-hosted Sigstore (own Fulcio CA, own Rekor log).
	// +optional
	TrustedRootSecretRef *meta.LocalObjectReference `json:"trustedRootSecretRef,omitempty"`
}

// HelmChartVerification configures signature verification of a chart pulled
// from an OCI HelmRepository. Unlike OCIRepositoryVerification it has no
// custom Sigstore trusted root.
type HelmChartVerification struct {
	// Provider is the signing technology: 'cosign' (the default) or 'notation'.
	// +kubebuilder:validation:Enum=cosign;notation
	// +kubebuilder:default:=cosign
	Provider string `json:"provider"`

	// SecretRef names a Secret with the trusted public keys (cosign) or the
	// trust policy and certificates (notation). Without it, cosign verifies
	// keyless signatures.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// MatchOIDCIdentity restricts keyless cosign verification to signatures
	// whose certificate matches at least one of these issuer/subject pairs.
	// +optional
	MatchOIDCIdentity []OIDCIdentityMatch `json:"matchOIDCIdentity,omitempty"`
}

// OIDCIdentityMatch is one accepted identity of a keyless signature. Both
// fields are Go regular expressions matched against the Fulcio certificate.
type OIDCIdentityMatch struct {
	// Issuer matches the OIDC issuer of the certificate.
	// +required
	Issuer string `json:"issuer"`

	// Subject matches the identity subject of the certificate.
	// +required
	Subject string `json:"subject"`
}
