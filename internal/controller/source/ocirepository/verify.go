package ocirepository

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/cosign"
	"github.com/driftless/driftless/internal/reconcile"
)

// reconcileVerification checks the cosign signature of the resolved digest
// with the public keys of spec.verify.secretRef, before anything is pulled.
// A digest already verified is not verified again unless the spec changed
// or the last verification failed. A failure keeps the previous artifact.
func (r *Reconciler) reconcileVerification(ctx context.Context, obj *sourcev1.OCIRepository, p *reconcile.Pass, st *Pull) error {
	v := obj.Spec.Verify
	if v == nil {
		p.Delete(sourcev1.SourceVerifiedCondition)
		return nil
	}
	if err := supported(v); err != nil {
		return reconcile.StallingOn(sourcev1.SourceVerifiedCondition, sourcev1.VerificationErrorReason, err)
	}
	if st.Unchanged && obj.Generation == obj.Status.ObservedGeneration && reconcile.IsTrue(obj, sourcev1.SourceVerifiedCondition) {
		p.Keep(sourcev1.SourceVerifiedCondition)
		return nil // this digest was verified when it was stored
	}

	failed := func(err error) error {
		return unverified(fmt.Errorf("failed to verify the signature of '%s' from '%s' using provider '%s': %w",
			st.resolved.Revision, obj.Spec.URL, sourcev1.VerificationProviderCosign, err))
	}
	secret, err := r.secret(ctx, obj.Namespace, v.SecretRef.Name)
	if err != nil {
		return failed(fmt.Errorf("public keys (spec.verify.secretRef): %w", err))
	}
	keys, err := cosign.ParsePublicKeys(secret.Data)
	if err != nil {
		return failed(fmt.Errorf("public keys secret '%s/%s' (spec.verify.secretRef): %w", obj.Namespace, v.SecretRef.Name, err))
	}
	digest, err := cosign.ParseDigest(st.resolved.Digest)
	if err != nil {
		return failed(err)
	}
	repo, err := name.NewRepository(st.repo.Registry+"/"+st.repo.Path, st.client.NameOptions()...)
	if err != nil {
		return failed(err)
	}
	ctx, cancel := context.WithTimeout(ctx, st.client.Timeout())
	defer cancel()
	if _, err := cosign.Verify(ctx, repo, digest, keys, st.client.RemoteOptions(ctx)...); err != nil {
		return failed(err)
	}
	p.MarkTrue(sourcev1.SourceVerifiedCondition, meta.SucceededReason,
		fmt.Sprintf("verified signature of revision %s", st.resolved.Revision))
	return nil
}

// supported refuses what the verifier does not do yet, saying what works
// instead: only cosign signatures made with a key pair are verified.
func supported(v *sourcev1.OCIRepositoryVerification) error {
	const instead = "sign the artifact with a key pair (cosign sign --key) and give the public keys (*.pub) in spec.verify.secretRef"
	switch {
	case v.Provider == sourcev1.VerificationProviderNotation:
		return fmt.Errorf("verification provider 'notation' is not supported yet; use provider 'cosign': %s", instead)
	case v.TrustedRootSecretRef != nil:
		return errors.New("spec.verify.trustedRootSecretRef (a self-hosted Sigstore) is not supported yet; remove it and " + instead)
	case v.SecretRef == nil:
		return errors.New("keyless cosign verification (no spec.verify.secretRef, or spec.verify.matchOIDCIdentity) is not supported yet; " + instead)
	}
	return nil
}

// unverified fails the pass with SourceVerified=False VerificationError, to
// retry with back-off.
func unverified(err error) error {
	return reconcile.FailedOn(sourcev1.SourceVerifiedCondition, sourcev1.VerificationErrorReason, err)
}
