package gitrepository

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/reconcile"
)

// Limits on an included artifact unpacked into the checkout.
const (
	maxIncludeSize  = 1 << 30
	maxIncludeFiles = 100_000
)

// reconcileInclude copies the artifacts of the included GitRepositories into
// the checkout, each at its toPath.
func (r *Reconciler) reconcileInclude(ctx context.Context, obj *sourcev1.GitRepository, p *reconcile.Pass, c *Checkout) error {
	if len(obj.Spec.Include) == 0 {
		obj.Status.IncludedArtifacts = nil
		p.Delete(sourcev1.IncludeUnavailableCondition)
		return nil
	}
	for _, inc := range obj.Spec.Include {
		var dep sourcev1.GitRepository
		key := types.NamespacedName{Namespace: obj.Namespace, Name: inc.GitRepositoryRef.Name}
		if err := r.Client.Get(ctx, key, &dep); err != nil {
			if apierrors.IsNotFound(err) {
				return includeUnavailable("NotFound", fmt.Errorf("could not get resource for include '%s': %w", key.Name, err))
			}
			return includeUnavailable(meta.FailedReason, fmt.Errorf("could not get resource for include '%s': %w", key.Name, err))
		}
		if dep.Status.Artifact == nil {
			return includeUnavailable("NoArtifact", fmt.Errorf("no artifact available for include '%s'", key.Name))
		}
		if err := r.copyInclude(c.Dir, dep.Status.Artifact, inc); err != nil {
			return reconcile.FailedOn(sourcev1.StorageOperationFailedCondition, sourcev1.ReadOperationFailedReason, err)
		}
		c.included = append(c.included, dep.Status.Artifact.DeepCopy())
	}
	p.Delete(sourcev1.IncludeUnavailableCondition)
	return nil
}

// copyInclude unpacks a's fromPath into dir/toPath, replacing what was there.
func (r *Reconciler) copyInclude(dir string, a *meta.Artifact, inc sourcev1.GitRepositoryInclude) error {
	local, err := r.Storage.LocalPath(a.Path)
	if err != nil {
		return fmt.Errorf("include '%s': %w", inc.GitRepositoryRef.Name, err)
	}
	f, err := os.Open(local)
	if err != nil {
		return fmt.Errorf("include '%s': read artifact: %w", inc.GitRepositoryRef.Name, err)
	}
	defer f.Close()
	unpacked, err := os.MkdirTemp(filepath.Dir(dir), "include-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(unpacked)
	if err := artifact.Untar(f, unpacked, artifact.UntarOptions{MaxSize: maxIncludeSize, MaxFiles: maxIncludeFiles, SkipLinks: true}); err != nil {
		return fmt.Errorf("include '%s': %w", inc.GitRepositoryRef.Name, err)
	}
	from, err := inside(unpacked, inc.FromPath)
	if err != nil {
		return fmt.Errorf("include '%s': fromPath: %w", inc.GitRepositoryRef.Name, err)
	}
	toPath := inc.ToPath
	if toPath == "" {
		toPath = inc.GitRepositoryRef.Name
	}
	to, err := inside(dir, toPath)
	if err != nil {
		return fmt.Errorf("include '%s': toPath: %w", inc.GitRepositoryRef.Name, err)
	}
	if err := os.RemoveAll(to); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
		return err
	}
	return os.Rename(from, to)
}

// inside joins rel to root, refusing a result outside root.
func inside(root, rel string) (string, error) {
	p := filepath.Join(root, filepath.FromSlash(rel))
	if p != root && !strings.HasPrefix(p, root+string(filepath.Separator)) {
		return "", fmt.Errorf("'%s' leaves the repository", rel)
	}
	return p, nil
}

// includeUnavailable waits for the included repository, looking again
// after the controller's --requeue-dependency should the watch miss it.
func includeUnavailable(reason string, err error) error {
	return reconcile.WaitingOn(sourcev1.IncludeUnavailableCondition, reason, 0, err)
}
