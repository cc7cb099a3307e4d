package imageupdateautomation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/git"
	"github.com/driftless/driftless/internal/engine/imageupdate"
	"github.com/driftless/driftless/internal/reconcile"
)

// maxRetries is how many times a run re-applies the setters on a new head
// after an unforced push lost a race, before it fails and backs off.
const maxRetries = 3

// maxNotes bounds the markers and files a Ready message names.
const maxNotes = 10

// outcome is what one checkout, update, commit and push did.
type outcome struct {
	head     string
	revision string
	commit   string
	message  string
	pushed   bool
	result   imageupdate.Result
}

// signer is the commit signing key of an automation, when it has one.
type signer struct {
	pgp *openpgp.Entity
	ssh git.Signer
}

// reconcileUpdate checks out the branch, runs the setters, commits and
// pushes, and starts again from the new head when an unforced push is not
// a fast-forward.
func (r *Reconciler) reconcileUpdate(ctx context.Context, obj *imagev1.ImageUpdateAutomation, p *reconcile.Pass, s *Run) error {
	now := r.now()
	obj.Status.LastAutomationRunTime = &metav1.Time{Time: now}
	if r.unchanged(ctx, obj, s) {
		obj.Status.ObservedPolicies = s.policies.observed
		r.outcomes.Store(key(obj), noUpdatesMessage(obj))
		return nil
	}
	sign, err := r.signer(ctx, obj)
	if err != nil {
		return err
	}
	push := git.PushOptions{}
	if s.push != s.checkout || s.checkout == "" {
		push.Branch, push.Force = s.push, true
	}
	if o := obj.Spec.GitSpec.Push; o != nil {
		push.Options = maps.Clone(o.Options)
		if o.Refspec != "" {
			push.Refspecs = []string{o.Refspec}
		}
	}
	var out outcome
	for attempt := 1; ; attempt++ {
		out, err = r.attempt(ctx, obj, s, sign, push, attempt)
		if errors.Is(err, git.ErrNonFastForward) && attempt <= maxRetries {
			continue
		}
		if errors.Is(err, git.ErrNonFastForward) {
			return reconcile.Failed(imagev1.GitOperationFailedReason, "failed to push after %d attempts: %w", attempt, err)
		}
		if err != nil {
			return err
		}
		break
	}
	obj.Status.ObservedPolicies = s.policies.observed
	obj.Status.ObservedSourceRevision = out.revision
	notes := r.report(p, out.result)
	if !out.pushed {
		r.outcomes.Store(key(obj), noUpdatesMessage(obj)+notes)
		return nil
	}
	if s.push == s.checkout {
		obj.Status.ObservedSourceRevision = s.checkout + "@sha1:" + out.commit
	}
	obj.Status.LastPushCommit = out.commit
	obj.Status.LastPushTime = &metav1.Time{Time: now}
	msg := fmt.Sprintf("pushed commit '%s' to branch '%s'", short(out.commit), s.push)
	if len(push.Refspecs) > 0 {
		msg += fmt.Sprintf(" and refspecs '%s'", strings.Join(push.Refspecs, "', '"))
	}
	msg += "\n" + out.message
	p.EventMetadata["revision"] = s.push + "@sha1:" + out.commit
	p.Event(corev1.EventTypeNormal, meta.SucceededReason, msg)
	r.outcomes.Store(key(obj), msg+notes)
	if updatesBranch(s.push, push.Refspecs, trackedBranch(s.repo)) {
		// The push is done: failing the run now would only make the next
		// run skip, the branch being up to date, without asking again.
		if err := r.requestSourceReconcile(ctx, s.repo); err != nil {
			p.Event(corev1.EventTypeWarning, imagev1.SourceManagerFailedReason, err.Error())
		}
	}
	return nil
}

// updatesBranch tells whether a push to branch with refspecs updates tracked.
func updatesBranch(branch string, refspecs []string, tracked string) bool {
	if tracked == "" {
		return false
	}
	if branch == tracked {
		return true
	}
	for _, rs := range refspecs {
		_, dst, _ := strings.Cut(rs, ":")
		if dst == tracked || dst == "refs/heads/"+tracked {
			return true
		}
	}
	return false
}

// attempt makes one checkout of the branch and updates, commits and pushes it.
func (r *Reconciler) attempt(ctx context.Context, obj *imagev1.ImageUpdateAutomation, s *Run, sign signer, push git.PushOptions, attempt int) (outcome, error) {
	var out outcome
	dir, err := os.MkdirTemp(r.TempDir, "imageupdateautomation-")
	if err != nil {
		return out, reconcile.Failed(imagev1.GitOperationFailedReason, "create temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	w, revision, err := r.checkout(ctx, dir, s)
	if err != nil {
		return out, err
	}
	out.head, out.revision = w.Head(), revision
	path := ""
	if u := obj.Spec.Update; u != nil {
		path = u.Path
	}
	if out.result, err = imageupdate.Apply(ctx, imageupdate.Options{Root: dir, Path: path, Policies: s.policies.images}); err != nil {
		return out, reconcile.Failed(imagev1.UpdateFailedReason, "failed to update files under '%s': %w", path, err)
	}
	if len(out.result.Files) == 0 {
		return out, nil
	}
	message, err := s.message.Render(client.ObjectKeyFromObject(obj), out.result.Changes, s.policies.images)
	if err != nil {
		return out, reconcile.Failed(imagev1.UpdateFailedReason, "%w", err)
	}
	author := obj.Spec.GitSpec.Commit.Author
	commit, made, err := w.CommitWorktree(out.result.Files, git.CommitRequest{
		Message: message,
		Author:  git.Signature{Name: author.Name, Email: author.Email, When: r.now()},
		SignKey: sign.pgp,
		Signer:  sign.ssh,
	})
	if err != nil {
		return out, reconcile.Failed(imagev1.GitOperationFailedReason, "failed to commit: %w", err)
	}
	if !made {
		return out, nil
	}
	if r.beforePush != nil {
		r.beforePush(obj, attempt)
	}
	pushed, err := w.PushTo(ctx, push)
	if errors.Is(err, git.ErrNonFastForward) {
		return out, err
	}
	if errors.Is(err, git.ErrAuthentication) && s.repo.Spec.SecretRef != nil {
		return out, reconcile.Failed(imagev1.GitOperationFailedReason,
			"failed to push: %w; the credentials of secret '%s/%s' need write access", err, s.repo.Namespace, s.repo.Spec.SecretRef.Name)
	}
	if err != nil {
		return out, gitFailed("failed to push: %w", err)
	}
	out.commit, out.message, out.pushed = commit, message, pushed
	return out, nil
}

// checkout checks out the branch for a push onto it, or clones the
// reference onto a local branch for a forced push elsewhere.
func (r *Reconciler) checkout(ctx context.Context, dir string, s *Run) (*git.Writer, string, error) {
	if s.checkout == "" {
		w, commit, err := r.git().CheckoutReference(ctx, dir, s.cloneOptions(), localBranch)
		if err != nil {
			return nil, "", gitFailed("failed to checkout source: %w", err)
		}
		rev, err := commit.Revision()
		if err != nil {
			return nil, "", gitFailed("failed to checkout source: %w", err)
		}
		return w, rev, nil
	}
	w, err := r.git().CheckoutBranch(ctx, dir, s.branch)
	if err != nil {
		return nil, "", gitFailed("failed to checkout source: %w", err)
	}
	if w.Head() == "" {
		return nil, "", reconcile.Failed(imagev1.GitOperationFailedReason, "failed to checkout source: branch '%s' not found in %s",
			s.checkout, describe(sourcev1.GitRepositoryKind, s.repo.Namespace, s.repo.Name))
	}
	return w, s.checkout + "@sha1:" + w.Head(), nil
}

// localBranch is the local branch a checkout of a tag, semver range,
// name or commit commits on; it is never pushed under that name.
const localBranch = "image-update-automation"

func (s *Run) cloneOptions() git.CloneOptions {
	return git.CloneOptions{URL: s.branch.URL, Reference: s.ref, Auth: s.branch.Auth, Proxy: s.branch.Proxy, Timeout: s.branch.Timeout}
}

// unchanged tells whether a run can skip the checkout: the spec is the
// observed one, no reconcile was requested, the selected policies are the
// observed ones and the checkout branch is still at the observed head.
func (r *Reconciler) unchanged(ctx context.Context, obj *imagev1.ImageUpdateAutomation, s *Run) bool {
	st := obj.Status
	// ObservedSourceRevision and ObservedPolicies are written only by a
	// run that ended with nothing left to push: a failed run since left
	// them at an older head or older picks. (Ready cannot tell: the pass
	// has already marked it Unknown.)
	if obj.Generation != st.ObservedGeneration || st.ObservedSourceRevision == "" ||
		obj.Annotations[meta.ReconcileRequestAnnotation] != st.LastHandledReconcileAt ||
		!maps.Equal(st.ObservedPolicies, s.policies.observed) {
		return false
	}
	hash, ref, err := r.git().Resolve(ctx, s.cloneOptions())
	if err != nil {
		return false // a commit cannot be resolved; the clone says what else is wrong
	}
	rev, err := artifact.FormatGitRevision(ref, hash)
	return err == nil && st.ObservedSourceRevision == rev
}

// report records a Warning event for the markers and files the setters
// left alone and returns the sentence the Ready message adds for them.
func (r *Reconciler) report(p *reconcile.Pass, res imageupdate.Result) string {
	var notes []string
	for _, m := range res.Missing {
		notes = append(notes, fmt.Sprintf("marker at %s:%d names policy '%s' which does not exist, is not selected or has no latestRef",
			m.File, m.Line, m.Policy))
	}
	for _, sk := range res.Skipped {
		where := sk.File
		if sk.Line > 0 {
			where = fmt.Sprintf("%s:%d", sk.File, sk.Line)
		}
		notes = append(notes, fmt.Sprintf("skipped %s: %s", where, sk.Reason))
	}
	if len(notes) == 0 {
		return ""
	}
	more := len(notes) - maxNotes + res.Unreported
	if len(notes) > maxNotes {
		notes = notes[:maxNotes]
	}
	text := strings.Join(notes, "; ")
	if more > 0 {
		text += fmt.Sprintf("; and %d more", more)
	}
	p.Event(corev1.EventTypeWarning, imagev1.UpdateFailedReason, text)
	return "\n" + text
}

// noUpdatesMessage is Ready's message of a run that pushed nothing.
func noUpdatesMessage(obj *imagev1.ImageUpdateAutomation) string {
	if c := obj.Status.LastPushCommit; c != "" && obj.Status.LastPushTime != nil {
		return fmt.Sprintf("%s; last commit '%s' at %s", noUpdates, short(c), obj.Status.LastPushTime.UTC().Format(time.RFC3339))
	}
	return noUpdates
}

// requestSourceReconcile asks the GitRepository to fetch the pushed commit
// now rather than at its interval.
func (r *Reconciler) requestSourceReconcile(ctx context.Context, repo *sourcev1.GitRepository) error {
	patch := client.MergeFrom(repo.DeepCopy())
	if repo.Annotations == nil {
		repo.Annotations = map[string]string{}
	}
	repo.Annotations[meta.ReconcileRequestAnnotation] = r.now().UTC().Format(time.RFC3339Nano)
	if err := r.Client.Patch(ctx, repo, patch); err != nil {
		return fmt.Errorf("request reconciliation of %s: %w", describe(sourcev1.GitRepositoryKind, repo.Namespace, repo.Name), err)
	}
	return nil
}

// signer loads git.commit.signingKey.
func (r *Reconciler) signer(ctx context.Context, obj *imagev1.ImageUpdateAutomation) (signer, error) {
	sk := obj.Spec.GitSpec.Commit.SigningKey
	if sk == nil {
		return signer{}, nil
	}
	secret, err := r.secret(ctx, obj.Namespace, sk.SecretRef.Name)
	if err != nil {
		return signer{}, err
	}
	name := obj.Namespace + "/" + sk.SecretRef.Name
	switch sk.Type {
	case "", imagev1.SigningKeyTypeGPG:
		ring, ok := secret.Data["git.asc"]
		if !ok {
			return signer{}, reconcile.Failed(imagev1.GitOperationFailedReason, "signing key secret '%s' has no 'git.asc'", name)
		}
		e, err := git.LoadSigningKey(ring, string(secret.Data["passphrase"]), "")
		if err != nil {
			return signer{}, reconcile.Failed(imagev1.GitOperationFailedReason, "signing key secret '%s': %w", name, err)
		}
		return signer{pgp: e}, nil
	case imagev1.SigningKeyTypeSSH:
		key, ok := secret.Data["identity"]
		if !ok {
			return signer{}, reconcile.Failed(imagev1.GitOperationFailedReason, "signing key secret '%s' has no 'identity'", name)
		}
		sg, err := git.LoadSSHSigningKey(key, string(secret.Data["password"]))
		if err != nil {
			return signer{}, reconcile.Failed(imagev1.GitOperationFailedReason, "signing key secret '%s': %w", name, err)
		}
		return signer{ssh: sg}, nil
	}
	return signer{}, reconcile.Stalling(imagev1.InvalidSourceConfigReason, "signing key type '%s' not supported", sk.Type)
}

func key(obj *imagev1.ImageUpdateAutomation) string { return obj.Namespace + "/" + obj.Name }

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
