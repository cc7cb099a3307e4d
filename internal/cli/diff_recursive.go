package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/engine/ignore"
)

// filteredCopy copies the directory root into a new temporary directory,
// leaving out what the source-controller would leave out of an artifact:
// the patterns of --ignore-paths (gitignore format), the .sourceignore files
// of the tree and the default exclusions. The caller removes the copy.
func filteredCopy(root string, ignorePaths []string) (string, error) {
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("--path %s is not a directory", root)
	}
	patterns := strings.Join(ignorePaths, "\n")
	rules, err := ignore.Load(root, &patterns)
	if err != nil {
		return "", fmt.Errorf("--ignore-paths: %w", err)
	}
	tmp, err := os.MkdirTemp("", "flux-diff-")
	if err != nil {
		return "", err
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if d.IsDir() && rules.SkipDir(parts) {
			return filepath.SkipDir
		}
		if rules.Match(parts, d.IsDir()) && !d.IsDir() {
			return nil
		}
		dst := filepath.Join(tmp, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, data, 0o644)
		}
		return nil
	})
	if err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("copy %s without the ignored paths: %w", root, err)
	}
	return tmp, nil
}

// recursiveDiff is one run of `flux diff kustomization --recursive`: it diffs
// the Kustomization built from --path, then every Kustomization that build
// holds, built from the local directory of its source, and so on down.
type recursiveDiff struct {
	nestedWalk
	// progress draws the progress bar of each level's dry-runs.
	progress bool
	changed  bool
}

// parseLocalSources checks the --local-sources entries Kind/namespace/name=path
// and makes their paths absolute.
func parseLocalSources(in map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for key, dir := range in {
		parts := strings.Split(key, "/")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("--local-sources %s=%s: write the source as Kind/namespace/name=path, "+
				"for example GitRepository/flux-system/flux-system=./", key, dir)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("--local-sources %s=%s: %s is not a directory", key, dir, dir)
		}
		out[key] = abs
	}
	return out, nil
}

// runRecursiveDiff diffs the Kustomization name and everything below it; it
// returns an ExitError with code 1 when any level differs.
func runRecursiveDiff(ctx context.Context, f *Factory, name string, b buildFlags, ignorePaths []string,
	localSources map[string]string, progress bool) error {
	sources, err := parseLocalSources(localSources)
	if err != nil {
		return &ExitError{Code: exitDiffError, Err: err}
	}
	if b.path == "" {
		return &ExitError{Code: exitDiffError, Err: errors.New("--path is required: give the local directory to build")}
	}
	r := &recursiveDiff{nestedWalk: nestedWalk{f: f, b: b, ignorePaths: ignorePaths, sources: sources, visited: map[string]bool{}}, progress: progress}
	ks, objs, err := r.diffOne(ctx, name, b, nil)
	if err != nil {
		return &ExitError{Code: exitDiffError, Err: err}
	}
	r.top(ks)
	if err := r.walk(ctx, objs); err != nil {
		return &ExitError{Code: exitDiffError, Err: err}
	}
	if r.changed {
		return &ExitError{Code: exitDiffFound,
			Err: errors.New("identified at least one change, exiting with non-zero exit code")}
	}
	return nil
}

// walk diffs the Kustomizations among objs, depth first, in build order.
func (r *recursiveDiff) walk(ctx context.Context, objs []*unstructured.Unstructured) error {
	for n, err := range r.kustomizations(objs, "diffed") {
		if err != nil {
			return err
		}
		_, nested, err := r.diffOne(ctx, n.ks.Name, n.b, n.ks)
		if err != nil {
			return fmt.Errorf("%s: %w", n.ref, err)
		}
		if err := r.walk(ctx, nested); err != nil {
			return err
		}
	}
	return nil
}

// diffOne builds and diffs one Kustomization. Its output goes to a section
// headed by its name, written only when there is a difference. nested is
// nil for the top Kustomization, whose inventory comes with its spec; a
// nested one's comes from the cluster.
func (r *recursiveDiff) diffOne(ctx context.Context, name string, b buildFlags,
	nested *kustomizev1.Kustomization) (*kustomizev1.Kustomization, []*unstructured.Unstructured, error) {
	b, done, err := withIgnore(b, r.ignorePaths)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	ks, objs, err := buildKustomization(ctx, r.f, name, b)
	if err != nil {
		return nil, nil, err
	}
	inv := ks.Status.Inventory
	if nested != nil {
		if inv, err = liveInventory(ctx, r.f, ks); err != nil {
			return nil, nil, err
		}
	}
	out := r.f.Out
	var buf bytes.Buffer
	r.f.Out = &buf
	changed, err := diffObjects(ctx, r.f, objs, newProgressBar(r.f, r.progress, len(objs)))
	if err == nil {
		var deleted bool
		deleted, err = diffDeleted(r.f, ks.Spec.Prune, inv, objs)
		changed = changed || deleted
	}
	r.f.Out = out
	if changed {
		r.changed = true
		fmt.Fprintf(out, "=== Kustomization/%s/%s (path %s) ===\n", ks.Namespace, ks.Name, ks.Spec.Path)
		if _, werr := buf.WriteTo(out); werr != nil && err == nil {
			err = werr
		}
	}
	return ks, objs, err
}

// liveInventory is the inventory of the Kustomization ks in the cluster;
// nil when it does not exist yet.
func liveInventory(ctx context.Context, f *Factory, ks *kustomizev1.Kustomization) (*kustomizev1.ResourceInventory, error) {
	c, err := f.Client()
	if err != nil {
		return nil, err
	}
	var live kustomizev1.Kustomization
	err = c.Get(ctx, client.ObjectKey{Namespace: ks.Namespace, Name: ks.Name}, &live)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Kustomization %s/%s: %w", ks.Namespace, ks.Name, err)
	}
	return live.Status.Inventory, nil
}

// localDir is the local directory of the nested Kustomization ks (named
// ref in messages): its spec.path in the local directory of its source.
// ok is false, with a note on stderr, when its source has none.
func localDir(f *Factory, sources map[string]string, ref string, ks *kustomizev1.Kustomization) (string, bool, error) {
	key := sourceKey(ks)
	root, ok := sources[key]
	if !ok {
		fmt.Fprintf(f.Err, "► %s skipped: its source %s has no local directory (add --local-sources %s=DIR)\n",
			ref, key, key)
		return "", false, nil
	}
	rel := filepath.Clean(filepath.FromSlash(ks.Spec.Path))
	if filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false, fmt.Errorf("%s: spec.path %q leaves its source", ref, ks.Spec.Path)
	}
	dir := filepath.Join(root, rel)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", false, fmt.Errorf("%s: spec.path %q is not a directory in %s (the local directory of %s)",
			ref, ks.Spec.Path, root, key)
	}
	return dir, true, nil
}

// sourceKey is Kind/namespace/name of the source of ks, as --local-sources
// names it.
func sourceKey(ks *kustomizev1.Kustomization) string {
	ns := ks.Spec.SourceRef.Namespace
	if ns == "" {
		ns = ks.Namespace
	}
	return ks.Spec.SourceRef.Kind + "/" + ns + "/" + ks.Spec.SourceRef.Name
}

// sourceRoot is dir without its trailing specPath: the local root of the
// source when dir is where specPath lies in it. ok is false when dir does
// not end in specPath.
func sourceRoot(dir, specPath string) (string, bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	rel := filepath.Clean(filepath.FromSlash(specPath))
	if rel == "." || rel == string(filepath.Separator) {
		return abs, true
	}
	rel = strings.TrimPrefix(rel, string(filepath.Separator))
	suffix := string(filepath.Separator) + rel
	if !strings.HasSuffix(abs, suffix) {
		return "", false
	}
	return strings.TrimSuffix(abs, suffix), true
}
