package helmchart

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/cosign"
	"github.com/driftless/driftless/internal/reconcile"
)

// VerificationNotApplicableReason says spec.verify was set on a chart that
// does not come from an OCI registry: nothing was verified.
const VerificationNotApplicableReason = "VerificationNotApplicable"

// reconcileVerification checks the cosign signature of a chart pulled from
// an OCI HelmRepository with the public keys of spec.verify.secretRef,
// before it is stored. A chart from elsewhere is said not to be verified.
func (r *Reconciler) reconcileVerification(ctx context.Context, obj *sourcev1.HelmChart, p *reconcile.Pass, b *Build) error {
	v := obj.Spec.Verify
	if v == nil {
		p.Delete(sourcev1.SourceVerifiedCondition)
		return nil
	}
	if !isOCI(b) {
		p.MarkUnknown(sourcev1.SourceVerifiedCondition, VerificationNotApplicableReason, fmt.Sprintf(
			"signature verification applies only to charts from a HelmRepository of type 'oci'; the chart from %s '%s' is not verified",
			obj.Spec.SourceRef.Kind, obj.Spec.SourceRef.Name))
		return nil
	}
	if err := supported(v); err != nil {
		return reconcile.StallingOn(sourcev1.SourceVerifiedCondition, sourcev1.VerificationErrorReason, err)
	}
	if b.Unchanged {
		p.Keep(sourcev1.SourceVerifiedCondition) // verified when it was stored
		return nil
	}
	failed := func(err error) error {
		return reconcile.FailedOn(sourcev1.SourceVerifiedCondition, sourcev1.VerificationErrorReason,
			fmt.Errorf("chart verification error: failed to verify the signature of '%s' (%s) using provider '%s': %w",
				b.oci.url, b.oci.digest, sourcev1.VerificationProviderCosign, err))
	}
	secret, err := r.secret(ctx, obj.Namespace, v.SecretRef.Name)
	if err != nil {
		return failed(fmt.Errorf("public keys (spec.verify.secretRef): %w", err))
	}
	keys, err := cosign.ParsePublicKeys(secret.Data)
	if err != nil {
		return failed(fmt.Errorf("public keys secret '%s/%s' (spec.verify.secretRef): %w", obj.Namespace, v.SecretRef.Name, err))
	}
	digest, err := cosign.ParseDigest(b.oci.digest)
	if err != nil {
		return failed(err)
	}
	c := b.oci.client
	repo, err := name.NewRepository(b.oci.repo.Registry+"/"+b.oci.repo.Path, c.NameOptions()...)
	if err != nil {
		return failed(err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout())
	defer cancel()
	if _, err := cosign.Verify(ctx, repo, digest, keys, c.RemoteOptions(ctx)...); err != nil {
		return failed(err)
	}
	p.MarkTrue(sourcev1.SourceVerifiedCondition, b.reason(), fmt.Sprintf("verified signature of version %s", b.version))
	return nil
}

// supported refuses what the verifier does not do yet, as OCIRepository
// does: only cosign signatures made with a key pair are verified.
func supported(v *sourcev1.HelmChartVerification) error {
	const instead = "sign the chart with a key pair (cosign sign --key) and give the public keys (*.pub) in spec.verify.secretRef"
	switch {
	case v.Provider == sourcev1.VerificationProviderNotation:
		return fmt.Errorf("verification provider 'notation' is not supported yet; use provider 'cosign': %s", instead)
	case v.SecretRef == nil || len(v.MatchOIDCIdentity) > 0:
		return errors.New("keyless cosign verification (no spec.verify.secretRef, or spec.verify.matchOIDCIdentity) is not supported yet; " + instead)
	}
	return nil
}
