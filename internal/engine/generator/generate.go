package generator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// MaxOutputs bounds the outputs one Generate builds, pathPattern matches
// included: the API's own bound on spec.artifacts.
const MaxOutputs = 1000

// nameRe is a DNS-1123 subdomain, what an ExternalArtifact name must be.
var nameRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)

// Generate builds every output of spec from sources into its own directory
// under tmpDir (which must exist), and returns them in spec order (per
// pathPattern match, in directory order). It validates the whole spec before
// writing; on error nothing is written outside tmpDir and the caller
// discards tmpDir. Errors are *Error, ErrValidationFailed or ErrBuildFailed.
func Generate(ctx context.Context, sources []Source, spec Spec, tmpDir string) ([]Result, error) {
	roots, closeAll, err := openSources(sources)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	byAlias := map[string]Source{}
	for _, s := range sources {
		byAlias[s.Alias] = s
	}
	if err := validate(byAlias, spec); err != nil {
		return nil, err
	}
	instances := []instance{{values: map[string]string{}}}
	if spec.PathPattern != "" {
		if instances, err = expandPattern(opContext{}, roots, spec.PathPattern); err != nil {
			return nil, err
		}
	}
	// The tenant's content decides how many directories a pathPattern
	// matches: without a bound, a repository of many directories would make
	// the controller build, store and publish as many outputs.
	if n := len(instances) * len(spec.Outputs); n > MaxOutputs {
		return nil, opContext{}.failed(orSpec(spec.PathPattern), nil,
			"%d directories match the pathPattern, %d outputs in all; at most %d are built: narrow the pattern or split the generator",
			len(instances), n, MaxOutputs)
	}
	type job struct {
		o    Output
		name string
		in   instance
	}
	var jobs []job
	names := map[string]string{}
	for _, in := range instances {
		for _, o := range spec.Outputs {
			name, err := fill(o.Name, in.lower())
			if err == nil && !nameRe.MatchString(name) {
				err = fmt.Errorf("%q is not a valid object name (lowercase letters, digits, '-', '.')", name)
			}
			if err != nil {
				return nil, opContext{artifact: o.Name}.invalid(in.dir, "%s", err.Error())
			}
			if other, dup := names[name]; dup {
				return nil, opContext{artifact: name}.invalid(in.dir, "two outputs are named %q (from %s and %s); make every name unique, using the pattern's captures", name, other, orSpec(in.dir))
			}
			names[name] = orSpec(in.dir)
			jobs = append(jobs, job{o, name, in})
		}
	}
	var results []Result
	for _, j := range jobs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, err := build(ctx, roots, byAlias, j.o, j.name, j.in, spec.MaxExtractSize, tmpDir)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	return results, nil
}

// orSpec names where an output came from in messages.
func orSpec(dir string) string {
	if dir == "" {
		return "spec.artifacts"
	}
	return dir
}

// build writes one output and computes its revision and metadata.
func build(ctx context.Context, roots map[string]*sourceRoot, byAlias map[string]Source, o Output, name string, in instance, maxExtract int64, tmpDir string) (Result, error) {
	dir := filepath.Join(tmpDir, name)
	if err := os.Mkdir(dir, 0o750); err != nil {
		return Result{}, opContext{artifact: name}.failed(dir, err, "cannot create the output directory")
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Result{}, opContext{artifact: name}.failed(dir, err, "cannot open the output directory")
	}
	defer root.Close()
	w := &writer{dir: dir, root: root, maxExtract: maxExtract}
	for i, cp := range o.Copy {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		from, _ := fill(cp.From, in.values)
		to, _ := fill(cp.To, in.values)
		c := opContext{artifact: name, op: fmt.Sprintf("copy[%d] %s -> %s", i, from, to)}
		fr, err := parseRef(c, "from", from)
		if err != nil {
			return Result{}, err
		}
		tr, err := parseRef(c, "to", to)
		if err != nil {
			return Result{}, err
		}
		p, err := planCopy(c, roots[fr.alias], fr, tr, cp.Exclude, cp.Strategy == StrategyExtract, root)
		if err != nil {
			return Result{}, err
		}
		if err := w.apply(c, roots[fr.alias], p, cp.Strategy, tr.rel); err != nil {
			return Result{}, err
		}
	}
	digest, err := contentDigest(root)
	if err != nil {
		return Result{}, opContext{artifact: name}.failed(dir, err, "cannot hash the output")
	}
	res := Result{Name: name, Dir: dir, Digest: digest, Revision: "latest@" + digest}
	if len(in.values) > 0 {
		res.Labels = in.lower()
	}
	if o.Revision != "" {
		res.Revision = byAlias[o.Revision[1:]].Revision
	}
	if o.OriginRevision != "" {
		res.Metadata = map[string]string{OriginRevisionKey: byAlias[o.OriginRevision[1:]].Revision}
	}
	return res, nil
}
