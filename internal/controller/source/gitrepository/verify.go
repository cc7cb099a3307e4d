package gitrepository

import (
	"context"
	"fmt"
	"strings"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/signature"
	"github.com/driftless/driftless/internal/reconcile"
)

// reconcileVerification checks the signatures spec.verify asks for with the
// public keys of its Secret. A failed check keeps the previous artifact.
func (r *Reconciler) reconcileVerification(ctx context.Context, obj *sourcev1.GitRepository, p *reconcile.Pass, c *Checkout) error {
	v := obj.Spec.Verification
	if v == nil {
		p.Delete(sourcev1.SourceVerifiedCondition)
		obj.Status.SourceVerificationMode = nil
		return nil
	}
	if c.Unchanged {
		p.Keep(sourcev1.SourceVerifiedCondition)
		return nil // this revision was verified when it was stored
	}
	mode := v.GetMode()
	if (mode == sourcev1.ModeGitTag || mode == sourcev1.ModeGitTagAndHEAD) && !refersToTag(obj) {
		err := fmt.Errorf("verification mode '%s' needs a tag reference (spec.ref.tag or spec.ref.semver)", mode)
		return reconcile.StallingOn(sourcev1.SourceVerifiedCondition, sourcev1.InvalidVerificationModeReason, err)
	}
	secret, err := r.secret(ctx, obj.Namespace, v.SecretRef.Name)
	if err != nil {
		return unverified(sourcev1.VerificationErrorReason, fmt.Errorf("public keys secret error: %w", err))
	}
	keys, err := signature.KeyRingFromSecret(secret.Data)
	if err != nil {
		return unverified(sourcev1.VerificationErrorReason, fmt.Errorf("public keys secret error: %w", err))
	}

	var lines []string
	if mode == sourcev1.ModeGitTag || mode == sourcev1.ModeGitTagAndHEAD {
		tag := c.commit.Tag
		if tag == nil || tag.Signature == "" {
			name := c.commit.Reference
			return unverified(sourcev1.InvalidGitObjectReason, fmt.Errorf("cannot verify signature of tag '%s' since it is not signed", name))
		}
		signer, err := keys.Verify(tag.Encoded, tag.Signature)
		if err != nil {
			return unverified(sourcev1.InvalidTagSignatureReason, fmt.Errorf("signature verification of tag '%s' failed: %w", tag.Name, err))
		}
		lines = append(lines, fmt.Sprintf("tag '%s' with key '%s'", tag.Name, signer))
	}
	if mode == sourcev1.ModeGitHEAD || mode == sourcev1.ModeGitTagAndHEAD {
		signer, err := keys.Verify(c.commit.Encoded, c.commit.Signature)
		if err != nil {
			return unverified(sourcev1.InvalidCommitSignatureReason, fmt.Errorf("signature verification of commit '%s' failed: %w", c.commit.Hash, err))
		}
		lines = append(lines, fmt.Sprintf("commit '%s' with key '%s'", c.commit.Hash, signer))
	}
	p.MarkTrue(sourcev1.SourceVerifiedCondition, meta.SucceededReason,
		"verified signature of\n\t- "+strings.Join(lines, "\n\t- "))
	obj.Status.SourceVerificationMode = &mode
	return nil
}

func refersToTag(obj *sourcev1.GitRepository) bool {
	ref := obj.Spec.Reference
	return ref != nil && ref.Commit == "" && ref.Name == "" && (ref.Tag != "" || ref.SemVer != "")
}

// unverified fails the reconciliation with SourceVerified=False.
func unverified(reason string, err error) error {
	return reconcile.FailedOn(sourcev1.SourceVerifiedCondition, reason, err)
}
