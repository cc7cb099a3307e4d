package kustomize

import (
	"errors"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
)

// Kinds of failure, to test with errors.Is.
var (
	// ErrPathNotFound means the path to build does not exist in the
	// artifact (Flux reports it as ArtifactFailed).
	ErrPathNotFound = errors.New("path not found")
	// ErrPathEscapes means a path leaves the artifact root.
	ErrPathEscapes = errors.New("path is outside the artifact root")
	// ErrRemoteRefused means a kustomization references a remote resource
	// while remote bases are not allowed.
	ErrRemoteRefused = errors.New("remote resource refused")
	// ErrInvalidManifest means a file or object is not a valid Kubernetes
	// manifest.
	ErrInvalidManifest = errors.New("invalid manifest")
	// ErrDuplicate means the build yields the same object twice.
	ErrDuplicate = errors.New("duplicate object")
	// ErrSubstitution means the post-build substitution failed.
	ErrSubstitution = errors.New("post-build substitution failed")
	// ErrDecryption means a decryption hook failed.
	ErrDecryption = errors.New("decryption failed")
	// ErrFileTooLarge means a file of the build is larger than
	// Options.MaxFileSize.
	ErrFileTooLarge = errors.New("file too large")
	// ErrBuildTimeout means a build ran longer than Options.Timeout.
	ErrBuildTimeout = errors.New("build time limit exceeded")
)

// DefaultMaxFileSize is the size limit of one file read by a build when
// Options.MaxFileSize is not set: 16 MiB. The API server refuses objects
// much above 1.5 MiB, so this leaves room for a file that bundles many
// objects (a large CRD bundle is a few MiB) while keeping a build's memory
// bounded. Substitution output is held to the same limit per object.
const DefaultMaxFileSize = 16 << 20

// DefaultTimeout is the time limit of one build when Options.Timeout is
// not set; the caller's context may end it sooner.
const DefaultTimeout = 2 * time.Minute

// Options configures one build.
type Options struct {
	// Path is the directory to build, relative to the artifact root; empty
	// or "./" is the root. A leading "/" is also relative to the root.
	Path string

	// TargetNamespace, NamePrefix, NameSuffix, Patches, Images, Components,
	// IgnoreMissingComponents and BuildMetadata are the spec fields of the
	// same names.
	TargetNamespace         string
	NamePrefix              string
	NameSuffix              string
	Patches                 []meta.Patch
	Images                  []meta.Image
	Components              []string
	IgnoreMissingComponents bool
	BuildMetadata           []kustomizev1.BuildMetadataOption

	// CommonMetadata labels and annotations are set on every object after
	// substitution, overriding keys the manifests set (so they are never
	// substituted, as in Flux).
	CommonMetadata *meta.CommonMetadata

	// Exclude, when set, hides files and directories of the artifact from
	// the build, as if they were absent: it is called with each path
	// relative to the root (slash-separated) and whether it is a directory.
	// A hidden directory hides what is below it. The `flux` CLI uses it to
	// apply .sourceignore and --ignore-paths to a local directory without
	// copying it.
	Exclude func(rel string, dir bool) bool

	// NoRemoteBases refuses remote resources, bases and components.
	NoRemoteBases bool

	// DecryptFile, when set, is called before the build with every file a
	// secretGenerator consumes, in the kustomization and its local bases and
	// components; the returned content replaces the file for the build (the
	// artifact on disk is not changed). It returns the content unchanged for
	// a file that is not encrypted.
	DecryptFile func(src SecretSource) ([]byte, error)

	// Decrypt, when set, is called with every built object before
	// substitution.
	Decrypt func(obj *unstructured.Unstructured) error

	// PostBuild configures variable substitution; nil disables it.
	PostBuild *PostBuild

	// MaxFileSize bounds, in bytes, each file the build reads (manifests,
	// kustomizations, patches, generator sources, and what DecryptFile
	// returns) and the YAML of each object after substitution; zero means
	// DefaultMaxFileSize.
	MaxFileSize int64

	// Timeout bounds the build once it has a build slot; zero means
	// DefaultTimeout. A build past it fails with ErrBuildTimeout.
	Timeout time.Duration
}

// maxFileSize returns the effective MaxFileSize.
func (o *Options) maxFileSize() int64 {
	if o.MaxFileSize > 0 {
		return o.MaxFileSize
	}
	return DefaultMaxFileSize
}

// timeout returns the effective Timeout.
func (o *Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

// PostBuild configures the substitution run on every built object.
type PostBuild struct {
	// Vars are the variables, as merged by MergeVars.
	Vars map[string]string
	// Strategy is kustomizev1.SubstituteWithVariables (the default when
	// empty: nothing is substituted when Vars is empty) or
	// kustomizev1.SubstituteAlways.
	Strategy string
	// AllowUndefined expands a variable with no value and no default to the
	// empty string instead of failing (the StrictPostBuildSubstitutions
	// feature gate turned off).
	AllowUndefined bool
}

// SpecOptions returns the Options of a Kustomization spec's fields. When
// spec.postBuild is set, PostBuild.Vars holds only spec.postBuild.substitute:
// the caller replaces it with MergeVars over the substituteFrom data, and
// sets AllowUndefined, the hooks and NoRemoteBases.
func SpecOptions(spec *kustomizev1.KustomizationSpec) Options {
	o := Options{
		Path:                    spec.Path,
		TargetNamespace:         spec.TargetNamespace,
		NamePrefix:              spec.NamePrefix,
		NameSuffix:              spec.NameSuffix,
		Patches:                 spec.Patches,
		Images:                  spec.Images,
		Components:              spec.Components,
		IgnoreMissingComponents: spec.IgnoreMissingComponents,
		BuildMetadata:           spec.BuildMetadata,
		CommonMetadata:          spec.CommonMetadata,
	}
	if pb := spec.PostBuild; pb != nil {
		o.PostBuild = &PostBuild{Vars: pb.Substitute, Strategy: pb.SubstituteStrategy}
	}
	return o
}

// SecretSource is a file consumed by a secretGenerator, which the caller
// may decrypt. A file referenced several times is given once, with its
// first reference in path order.
type SecretSource struct {
	// Path is the file's path relative to the artifact root.
	Path string
	// Data is the file's content.
	Data []byte
	// Key is the key of a "files: key=path" entry, whose name tells the
	// format of the content; empty for other entries.
	Key string
	// Env is set for an "envs:" entry (a dotenv file).
	Env bool
}

// Result is the outcome of a build.
type Result struct {
	// Objects are the built objects, in kustomize's output order.
	Objects []*unstructured.Unstructured
	// Manifests is the multi-document YAML of Objects.
	Manifests []byte
	// Digest is "sha256:" and the hex SHA-256 of Manifests, for the
	// Kustomization's status.history.
	Digest string
}
