package layering

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
)

// Load returns the import graph beneath patterns, test files left out (the
// rules are about what a package and the binaries built from it link), by
// running `go list -deps -json` in dir.
func Load(ctx context.Context, dir string, patterns ...string) ([]Package, error) {
	args := append([]string{"list", "-deps", "-json=ImportPath,Imports"}, patterns...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w: %s", err, stderr.Bytes())
	}
	return decode(bytes.NewReader(out))
}

// decode reads the stream of JSON objects go list prints.
func decode(r io.Reader) ([]Package, error) {
	var pkgs []Package
	dec := json.NewDecoder(r)
	for {
		var p Package
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			return pkgs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decode go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
}
