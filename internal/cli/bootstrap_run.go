package cli

import (
	"context"
	"fmt"
	"os"
	"path"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/git"
	"github.com/driftless/driftless/internal/install"
)

// bootstrapProvider is what one `flux bootstrap <provider>` subcommand
// adds to the shared bootstrap: where the repository is and how the command
// line and the cluster authenticate to it. Everything else (the install and
// sync manifests, clone, commit, push, install, source secret, apply and
// wait) is runBootstrap's. `bootstrap git` is the plain-Git provider: it
// takes the URL as given and asks the user to add a new deploy key; a
// hosting provider (GitHub, GitLab...) would create the repository and
// register the key or token through its API instead.
//
// A provider checks its own flags when it is built, before runBootstrap
// starts, so that a bad flag fails before anything is read or changed.
type bootstrapProvider interface {
	// repository makes sure the repository exists and says where it is.
	repository(ctx context.Context) (bootstrapRepository, error)
	// credentials returns the keys of the source secret in namespace ns
	// and the auth the command line clones and pushes with, once the Git
	// host accepts them (a deploy key is registered, or the user was asked
	// to add it). Nil keys mean the cluster reads without credentials.
	credentials(ctx context.Context, ns string, repo bootstrapRepository) (map[string]string, *git.Auth, error)
}

// bootstrapRepository is where bootstrap pushes and what the cluster syncs.
type bootstrapRepository struct {
	// url is what the command line clones and pushes to; redacted is it
	// without a password, for messages.
	url, redacted string
	// syncURL is the GitRepository's spec.url.
	syncURL string
	// check names what to check when the clone fails, e.g. the flags that
	// gave the URL and credentials.
	check string
}

// runBootstrap pushes the manifests, installs, writes the source secret,
// applies the sync objects and waits for them, printing Flux's progress.
// targetPath is --path, interval the GitRepository's spec.interval.
func runBootstrap(ctx context.Context, f *Factory, b *bootstrapOptions, prov bootstrapProvider, targetPath string, interval time.Duration) error {
	p := progress{f.Err}
	target, err := cleanTargetPath(targetPath)
	if err != nil {
		return err
	}
	sparse, err := b.sparseDirs(target)
	if err != nil {
		return err
	}
	ns := f.SystemNamespace()
	b.install.Namespace = ns
	if _, _, err := b.install.Controllers(); err != nil {
		return err
	}
	if err := b.extras.check(b.install); err != nil {
		return err
	}
	signKey, err := b.signingKey()
	if err != nil {
		return err
	}
	// Asked before anything is pushed: a "no" to taking over another
	// tool's install leaves the repository as it was.
	hooks, err := b.extras.hooks(ctx, f, b.install)
	if err != nil {
		return err
	}

	repo, err := prov.repository(ctx)
	if err != nil {
		return err
	}
	secret, auth, err := prov.credentials(ctx, ns, repo)
	if err != nil {
		return err
	}

	p.action("cloning branch %q from Git repository %q", b.branch, repo.redacted)
	dir, err := os.MkdirTemp("", "flux-bootstrap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	client := &git.Client{SSHHostKeyAlgorithms: b.hostKeyAlgos}
	w, err := client.CheckoutBranch(ctx, dir, git.BranchOptions{URL: repo.url, Branch: b.branch, Auth: auth, Timeout: f.Timeout})
	if err != nil {
		return fmt.Errorf("clone %s: %w; check %s, and that they may push", repo.redacted, err, repo.check)
	}
	if w.Head() == "" {
		p.success("branch %q does not exist yet: it will be created", b.branch)
	} else {
		p.success("cloned repository")
	}

	secretName := b.secretName
	if secret == nil {
		secretName = ""
	}
	repoObj, ksObj := syncObjects(ns, repo.syncURL, b.branch, secretName, target, interval, b.recurseSubmodules)
	repoObj.Spec.SparseCheckout = sparse
	if err := commitManifests(p, w, b, target, signKey, repoObj, ksObj); err != nil {
		return err
	}
	pushed, err := w.Push(ctx)
	if err != nil {
		return err
	}
	if pushed {
		p.success("pushed manifests to branch %q (%s)", b.branch, w.Head())
	} else {
		p.success("branch %q is up to date (%s): nothing to push", b.branch, w.Head())
	}

	if err := installComponents(ctx, f, b.install, hooks); err != nil {
		return err
	}
	if secret != nil {
		if err := reconcileSourceSecret(ctx, f, ns, b.secretName, secret); err != nil {
			return err
		}
	}
	return applySyncAndWait(ctx, f, repoObj, ksObj, w.Head(), pushed)
}

// commitSigning is how bootstrap signs its commits: with OpenPGP, SSH or
// not at all (both nil).
type commitSigning struct {
	pgp *openpgp.Entity
	ssh git.Signer
}

// signingKey loads --gpg-key-ring or the SSH signing key; both nil when
// commits are not signed.
func (b *bootstrapOptions) signingKey() (commitSigning, error) {
	sshKey := b.sshSigningKeyFile
	if b.sshSigningReuseKey {
		sshKey = b.privateKeyFile
	}
	switch {
	case b.sshSigningReuseKey && b.privateKeyFile == "":
		return commitSigning{}, fmt.Errorf("--ssh-signing-reuse-private-key needs --private-key-file")
	case b.sshSigningReuseKey && b.sshSigningKeyFile != "":
		return commitSigning{}, fmt.Errorf("--ssh-signing-reuse-private-key and --ssh-signing-key-file cannot both be set: choose one signing key")
	case sshKey != "" && b.gpgKeyRing != "":
		return commitSigning{}, fmt.Errorf("commits are signed with either OpenPGP (--gpg-key-ring) or SSH (--ssh-signing-key-file), not both")
	case sshKey != "":
		data, err := os.ReadFile(sshKey)
		if err != nil {
			return commitSigning{}, fmt.Errorf("read SSH signing key: %w", err)
		}
		signer, err := git.LoadSSHSigningKey(data, b.sshSigningPassword)
		if err != nil {
			return commitSigning{}, fmt.Errorf("SSH signing key %s: %w (the passphrase is --ssh-signing-password)", sshKey, err)
		}
		return commitSigning{ssh: signer}, nil
	case b.gpgKeyRing == "":
		return commitSigning{}, nil
	}
	ring, err := os.ReadFile(b.gpgKeyRing)
	if err != nil {
		return commitSigning{}, fmt.Errorf("read --gpg-key-ring: %w", err)
	}
	signKey, err := git.LoadSigningKey(ring, b.gpgPassphrase, b.gpgKeyID)
	if err != nil {
		return commitSigning{}, fmt.Errorf("--gpg-key-ring %s: %w", b.gpgKeyRing, err)
	}
	return commitSigning{pgp: signKey}, nil
}

// commitManifests commits gotk-components.yaml, then gotk-sync.yaml and,
// when the repository lacks it, kustomization.yaml under
// <target>/flux-system, one commit each when they changed.
func commitManifests(p progress, w *git.Writer, b *bootstrapOptions, target string, sign commitSigning,
	repoObj *sourcev1.GitRepository, ksObj *kustomizev1.Kustomization) error {
	author := git.Signature{Name: b.authorName, Email: b.authorEmail}
	flux := path.Join(target, "flux-system")
	p.action("generating component manifests")
	objs, err := install.Render(b.install)
	if err != nil {
		return err
	}
	components, err := install.YAML(objs, b.install, "flux bootstrap")
	if err != nil {
		return err
	}
	if err := commitStep(p, w, "component manifests", b, git.CommitRequest{
		Files:   map[string][]byte{path.Join(flux, "gotk-components.yaml"): components},
		Message: b.commitMessage(fmt.Sprintf("Add Flux %s component manifests", b.install.Version)),
		Author:  author, SignKey: sign.pgp, Signer: sign.ssh,
	}); err != nil {
		return err
	}

	p.action("generating sync manifests")
	sync, err := syncYAML(repoObj, ksObj)
	if err != nil {
		return err
	}
	files := map[string][]byte{path.Join(flux, "gotk-sync.yaml"): sync}
	if _, ok := w.ReadFile(path.Join(flux, "kustomization.yaml")); !ok {
		files[path.Join(flux, "kustomization.yaml")] = []byte(kustomizationYAML)
	}
	return commitStep(p, w, "sync manifests", b, git.CommitRequest{
		Files: files, Message: b.commitMessage("Add Flux sync manifests"), Author: author, SignKey: sign.pgp, Signer: sign.ssh,
	})
}

// commitStep commits one group of files and says whether it changed.
func commitStep(p progress, w *git.Writer, what string, b *bootstrapOptions, req git.CommitRequest) error {
	hash, changed, err := w.Commit(req)
	if err != nil {
		return err
	}
	if changed {
		p.success("committed %s to %q (%s)", what, b.branch, hash)
	} else {
		p.success("%s are up to date", what)
	}
	return nil
}
