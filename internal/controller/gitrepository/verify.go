package gitrepository

import (
	"context"
	"fmt"
	"strings"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/signature"
)

// reconcileVerification checks the signatures spec.verify asks for with the
// public keys of its Secret. A failed check keeps the previous artifact.
func (r *Reconciler) reconcileVerification(ctx context.Context, obj *sourcev1.GitRepository, _ *reconcile.Pass, c *checkout) error {
	v := obj.Spec.Verification
	if v == nil {
		reconcile.Delete(obj, sourcev1.SourceVerifiedCondition)
		obj.Status.SourceVerificationMode = nil
		return nil
	}
	if c.unchanged {
		return nil // this revision was verified when it was stored
	}
	mode := v.GetMode()
	if (mode == sourcev1.ModeGitTag || mode == sourcev1.ModeGitTagAndHEAD) && !refersToTag(obj) {
		err := fmt.Errorf("verification mode '%s' needs a tag reference (spec.ref.tag or spec.ref.semver)", mode)
		reconcile.MarkFalse(obj, sourcev1.SourceVerifiedCondition, sourcev1.InvalidVerificationModeReason, err.Error())
		return &reconcile.StallingError{Reason: sourcev1.InvalidVerificationModeReason, Err: err}
	}
	secret, err := r.secret(ctx, obj.Namespace, v.SecretRef.Name)
	if err != nil {
		return unverified(obj, sourcev1.VerificationErrorReason, fmt.Errorf("public keys secret error: %w", err))
	}
	keys, err := signature.KeyRingFromSecret(secret.Data)
	if err != nil {
		return unverified(obj, sourcev1.VerificationErrorReason, fmt.Errorf("public keys secret error: %w", err))
	}

	var lines []string
	if mode == sourcev1.ModeGitTag || mode == sourcev1.ModeGitTagAndHEAD {
		tag := c.commit.Tag
		if tag == nil || tag.Signature == "" {
			name := c.commit.Reference
			return unverified(obj, sourcev1.InvalidGitObjectReason, fmt.Errorf("cannot verify signature of tag '%s' since it is not signed", name))
		}
		signer, err := keys.Verify(tag.Encoded, tag.Signature)
		if err != nil {
			return unverified(obj, sourcev1.InvalidTagSignatureReason, fmt.Errorf("signature verification of tag '%s' failed: %w", tag.Name, err))
		}
		lines = append(lines, fmt.Sprintf("tag '%s' with key '%s'", tag.Name, signer))
	}
	if mode == sourcev1.ModeGitHEAD || mode == sourcev1.ModeGitTagAndHEAD {
		signer, err := keys.Verify(c.commit.Encoded, c.commit.Signature)
		if err != nil {
			return unverified(obj, sourcev1.InvalidCommitSignatureReason, fmt.Errorf("signature verification of commit '%s' failed: %w", c.commit.Hash, err))
		}
		lines = append(lines, fmt.Sprintf("commit '%s' with key '%s'", c.commit.Hash, signer))
	}
	reconcile.MarkTrue(obj, sourcev1.SourceVerifiedCondition, meta.SucceededReason,
		"verified signature of\n\t- "+strings.Join(lines, "\n\t- "))
	obj.Status.SourceVerificationMode = &mode
	return nil
}

func refersToTag(obj *sourcev1.GitRepository) bool {
	ref := obj.Spec.Reference
	return ref != nil && ref.Commit == "" && ref.Name == "" && (ref.Tag != "" || ref.SemVer != "")
}

// unverified marks SourceVerified=False and fails the reconciliation.
func unverified(obj *sourcev1.GitRepository, reason string, err error) error {
	reconcile.MarkFalse(obj, sourcev1.SourceVerifiedCondition, reason, err.Error())
	return &reconcile.GenericError{Reason: reason, Err: err}
}
