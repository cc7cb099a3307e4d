package kustomize

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
)

// buildIn builds o.Path of the artifact at root, stopping when ctx ends.
func buildIn(ctx context.Context, root string, o *Options) (*Result, error) {
	fsys, err := newConfinedFS(root, !o.NoRemoteBases)
	if err != nil {
		return nil, err
	}
	fsys.maxSize, fsys.stop, fsys.exclude = o.maxFileSize(), ctx, o.Exclude
	res, err := build(ctx, fsys, o)
	if err != nil && strings.Contains(err.Error(), fsys.root) {
		// Name files relative to the artifact, never by their location on
		// the controller's disk.
		err = &buildError{msg: relativize(fsys, err.Error()), err: err}
	}
	return res, err
}

// build runs the steps of Build on the artifact's filesystem.
func build(ctx context.Context, fsys *confinedFS, o *Options) (*Result, error) {
	dir, err := resolveBuildPath(fsys, o.Path)
	if err != nil {
		return nil, err
	}
	kfile, content, err := prepareKustomization(fsys, dir, o)
	if err != nil {
		return nil, err
	}
	fsys.setOverlay(kfile, content)
	walker := newGraphWalker(fsys, o.NoRemoteBases)
	if err := walker.walk(dir); err != nil {
		return nil, err
	}
	if err := decryptSources(fsys, walker, o.DecryptFile); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resMap, err := runKustomize(fsys, dir, o.Path, walker.schema)
	if err != nil {
		return nil, err
	}
	keepOrigin := false
	for _, opt := range o.BuildMetadata {
		keepOrigin = keepOrigin || string(opt) == originOption
	}
	built, err := collectObjects(fsys, dir, resMap, keepOrigin)
	if err != nil {
		return nil, err
	}
	return finish(ctx, built, o)
}

// resolveBuildPath returns the resolved directory of path inside the
// artifact.
func resolveBuildPath(fsys *confinedFS, path string) (string, error) {
	rel := filepath.Clean(filepath.FromSlash(strings.TrimLeft(path, "/")))
	if rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%w: kustomization path %q leaves the artifact", ErrPathEscapes, path)
	}
	dir, _, err := fsys.resolve(filepath.Join(fsys.root, rel))
	switch {
	case errors.Is(err, ErrPathEscapes):
		return "", fmt.Errorf("kustomization path %q: %w", path, err)
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%w: kustomization path %q does not exist in the artifact", ErrPathNotFound, path)
	case err != nil:
		return "", fmt.Errorf("kustomization path %q: %w", path, err)
	case !fsys.IsDir(dir):
		return "", fmt.Errorf("%w: kustomization path %q is a file, not a directory", ErrPathNotFound, path)
	}
	return dir, nil
}

// decryptSources replaces the secretGenerator sources with what decrypt
// returns for them.
func decryptSources(fsys *confinedFS, w *graphWalker, decrypt func(SecretSource) ([]byte, error)) error {
	if decrypt == nil {
		return nil
	}
	for _, p := range w.sources() {
		src := w.genSources[p]
		data, err := fsys.ReadFile(p)
		if err != nil {
			return fmt.Errorf("secretGenerator source %s: %w", src.Path, err)
		}
		src.Data = data
		out, err := decrypt(src)
		if err != nil {
			return fmt.Errorf("%w: secretGenerator source %s: %w", ErrDecryption, src.Path, err)
		}
		fsys.setOverlay(p, out)
	}
	return nil
}

// runKustomize runs kustomize on dir; changesSchema tells that the build
// may change kustomize's global OpenAPI schema (see schemaGate).
func runKustomize(fsys *confinedFS, dir, path string, changesSchema bool) (m resmap.ResMap, err error) {
	release := acquireSchema(changesSchema)
	defer release()
	if err := fsys.stopped(); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("kustomize build of %q failed: kustomize panicked: %v", path, r)
		}
	}()
	k := krusty.MakeKustomizer(&krusty.Options{
		Reorder:          krusty.ReorderOptionNone,
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	})
	m, err = k.Run(fsys, dir)
	if err != nil {
		be := &buildError{msg: fmt.Sprintf("kustomize build of %q failed: %s", displayPath(path), relativize(fsys, err.Error())), err: err}
		switch {
		case strings.Contains(err.Error(), "already registered id"):
			be.kind = ErrDuplicate
		case fsys.tooLarge != nil:
			be.kind = fsys.tooLarge
		case fsys.stopped() != nil:
			be.kind = fsys.stopped()
		}
		return nil, be
	}
	return m, nil
}

// buildError is a kustomize failure with paths made relative to the
// artifact; it unwraps to the original error and to a kind such as
// ErrDuplicate when one is recognised.
type buildError struct {
	msg  string
	err  error
	kind error
}

func (e *buildError) Error() string { return e.msg }

func (e *buildError) Unwrap() []error {
	if e.kind != nil {
		return []error{e.err, e.kind}
	}
	return []error{e.err}
}

// relativize makes the artifact paths in a message relative to its root:
// the root itself becomes ".", paths below it lose the root.
func relativize(fsys *confinedFS, msg string) string {
	msg = strings.ReplaceAll(msg, fsys.root+string(filepath.Separator), "")
	var b strings.Builder
	for {
		i := strings.Index(msg, fsys.root)
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		end := i + len(fsys.root)
		b.WriteString(msg[:i])
		if end < len(msg) && isPathByte(msg[end]) {
			b.WriteString(fsys.root) // a longer path that only starts alike
		} else {
			b.WriteString(".")
		}
		msg = msg[end:]
	}
}

// isPathByte reports whether c may continue a file name.
func isPathByte(c byte) bool {
	return c == '.' || c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
