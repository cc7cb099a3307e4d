package chart

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// RepositoryResolver fetches a dependency from a remote chart repository.
// The controller implements it over the same-namespace HelmRepository whose
// URL is repoURL, with that repository's credentials (anonymously when none
// matches).
type RepositoryResolver interface {
	// Fetch returns the chart archive of chart name at the newest version
	// within versionRange ("*" when Chart.yaml gives none) from the
	// repository at repoURL, exactly as Chart.yaml spells it (an http(s)://
	// or oci:// URL).
	Fetch(ctx context.Context, repoURL, name, versionRange string) (archive []byte, err error)
}

// DependencyError says that a dependency of a chart could not be built; it
// names the dependency, its version range and its repository.
type DependencyError struct {
	// Name is the dependency's chart name.
	Name string
	// Version is its version range, as Chart.yaml gives it.
	Version string
	// Repository is its repository, as Chart.yaml gives it.
	Repository string
	// Err is the cause.
	Err error
}

// Error names the dependency and the cause.
func (e *DependencyError) Error() string {
	repo := e.Repository
	if repo == "" {
		repo = "charts/"
	}
	return fmt.Sprintf("dependency '%s' (version '%s') from '%s': %v", e.Name, e.Version, repo, e.Err)
}

// Unwrap returns the cause.
func (e *DependencyError) Unwrap() error { return e.Err }

// BuildDependencies adds to c every dependency its Chart.yaml declares that
// is not vendored in its charts/ directory yet (matched by chart name): a
// "file://" repository, or none, is a chart directory or archive relative
// to the chart's directory (the archive's directory for an archive), which
// must lie inside root, the source artifact; any other repository is
// fetched through resolve. Each dependency is loaded under c's limits and
// must have the declared name and a version within the declared range.
// Dependencies of dependencies are not built: they must be vendored, as
// `helm dependency build` expects. The error is a *DependencyError, or an
// *IllegalPathError within it for a path leaving root.
func BuildDependencies(ctx context.Context, c *Chart, root string, resolve RepositoryResolver) error {
	have := map[string]bool{}
	for _, d := range c.sdk.Dependencies() {
		have[d.Name()] = true
	}
	for _, dep := range c.sdk.Metadata.Dependencies {
		if dep == nil || have[dep.Name] {
			continue
		}
		versionRange := dep.Version
		if strings.TrimSpace(versionRange) == "" {
			versionRange = "*"
		}
		var (
			sub *Chart
			err error
		)
		if dep.Repository == "" || strings.HasPrefix(dep.Repository, "file://") {
			sub, err = loadLocal(c, root, strings.TrimPrefix(dep.Repository, "file://"))
		} else {
			sub, err = fetchRemote(ctx, c, resolve, dep.Repository, dep.Name, versionRange)
		}
		if err == nil {
			err = checkDependency(sub, dep.Name, versionRange)
		}
		if err != nil {
			return &DependencyError{Name: dep.Name, Version: dep.Version, Repository: dep.Repository, Err: err}
		}
		c.sdk.AddDependency(sub.sdk)
		have[dep.Name] = true
	}
	return nil
}

// loadLocal loads the chart at rel, relative to c's directory, within root.
func loadLocal(c *Chart, root, rel string) (*Chart, error) {
	if rel == "" {
		return nil, errors.New("not vendored in charts/ and no repository given")
	}
	if root == "" {
		return nil, errors.New("a file:// dependency needs the chart's source, and this chart has none")
	}
	realRoot, err := realAbs(root)
	if err != nil {
		return nil, err
	}
	dir, err := realAbs(c.dir)
	if err != nil {
		return nil, err
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if filepath.IsAbs(filepath.FromSlash(rel)) || !within(realRoot, p) {
		return nil, &IllegalPathError{Path: "file://" + rel, Reason: "leaves the source"}
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, err
	}
	if !within(realRoot, real) {
		return nil, &IllegalPathError{Path: "file://" + rel, Reason: "is a symbolic link out of the source"}
	}
	if _, err := os.Stat(real); err != nil {
		return nil, err
	}
	return Load(real, c.limits)
}

// fetchRemote fetches a dependency's archive through resolve and loads it.
func fetchRemote(ctx context.Context, c *Chart, resolve RepositoryResolver, repoURL, name, versionRange string) (*Chart, error) {
	if resolve == nil {
		return nil, errors.New("no chart repository resolver")
	}
	data, err := resolve.Fetch(ctx, repoURL, name, versionRange)
	if err != nil {
		return nil, err
	}
	return LoadArchive(repoURL+"/"+name, data, c.dir, c.limits)
}

// checkDependency checks that sub is the chart a dependency declares.
func checkDependency(sub *Chart, name, versionRange string) error {
	if sub.Name() != name {
		return fmt.Errorf("got chart '%s' instead", sub.Name())
	}
	constraint, err := semver.NewConstraint(versionRange)
	if err != nil {
		return &RangeError{Range: versionRange, Err: err}
	}
	v, err := semver.NewVersion(sub.Version())
	if err != nil {
		return fmt.Errorf("version '%s' is not semver: %w", sub.Version(), err)
	}
	if !constraint.Check(v) {
		return fmt.Errorf("got version '%s', outside the range", sub.Version())
	}
	return nil
}
