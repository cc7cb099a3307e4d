package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/driftless/driftless/internal/engine/ignore"
)

// withIgnore applies --ignore-paths (with the .sourceignore files of the
// tree and the default exclusions, as source-controller filters an
// artifact) to b.path: with --in-memory-build by hiding the ignored files
// from the build, else by building a filtered copy in a temporary
// directory. Without ignore paths b is returned as it is. Call the
// returned func when the build is done.
func withIgnore(b buildFlags, ignorePaths []string) (buildFlags, func(), error) {
	if len(ignorePaths) == 0 || b.path == "" {
		return b, func() {}, nil
	}
	if !b.inMemory {
		tmp, err := filteredCopy(b.path, ignorePaths)
		if err != nil {
			return b, nil, err
		}
		b.path = tmp
		return b, func() { os.RemoveAll(tmp) }, nil
	}
	if fi, err := os.Stat(b.path); err != nil || !fi.IsDir() {
		return b, nil, fmt.Errorf("--path %s is not a directory", b.path)
	}
	patterns := strings.Join(ignorePaths, "\n")
	rules, err := ignore.Load(b.path, &patterns)
	if err != nil {
		return b, nil, fmt.Errorf("--ignore-paths: %w", err)
	}
	b.exclude = func(rel string, dir bool) bool {
		parts := strings.Split(rel, "/")
		if dir {
			return rules.SkipDir(parts)
		}
		return rules.Match(parts, false)
	}
	return b, func() {}, nil
}
