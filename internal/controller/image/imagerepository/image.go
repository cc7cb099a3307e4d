package imagerepository

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/internal/engine/oci"
)

// Image is an ImageRepository's spec.image, parsed.
type Image struct {
	// Canonical is the name with every implied part explicit
	// (index.docker.io/library/nginx for nginx): status.canonicalImageName.
	Canonical string
	// Repository is where the registry client lists the tags.
	Repository oci.Repository
	// Resource is the repository as credentials are looked up for it.
	Resource name.Repository
}

// ParseImage reads spec.image with Flux's rules and messages: no scheme,
// no tag or digest, a name go-containerregistry accepts.
func ParseImage(image string, insecure bool) (Image, error) {
	if scheme, _, ok := strings.Cut(image, "://"); ok {
		return Image{}, fmt.Errorf(".spec.image value should not start with URL scheme; remove '%s://'", scheme)
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(image, opts...)
	if err != nil {
		return Image{}, err
	}
	repo := ref.Context()
	rest := strings.TrimPrefix(image, repo.RegistryStr())
	// A digest is looked for first: its "sha256:" would read as a tag.
	if _, digest, ok := strings.Cut(rest, "@"); ok {
		return Image{}, fmt.Errorf(".spec.image value should not contain a digest; remove '@%s'", digest)
	}
	if _, tag, ok := strings.Cut(rest, ":"); ok {
		return Image{}, fmt.Errorf(".spec.image value should not contain a tag; remove ':%s'", tag)
	}
	return Image{
		Canonical:  repo.Name(),
		Repository: oci.Repository{Registry: repo.RegistryStr(), Path: repo.RepositoryStr()},
		Resource:   repo,
	}, nil
}

// ExclusionList is spec.exclusionList with its default: the cosign
// signature tags.
func ExclusionList(obj *imagev1.ImageRepository) []string {
	if obj.Spec.ExclusionList == nil {
		return []string{imagev1.DefaultExclusionPattern}
	}
	return obj.Spec.ExclusionList
}

// exclusions compiles the exclusion list; a pattern that does not compile
// is named in the error.
func exclusions(list []string) ([]*regexp.Regexp, error) {
	res := make([]*regexp.Regexp, 0, len(list))
	for _, p := range list {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("invalid exclusionList pattern '%s': %w", p, err)
		}
		res = append(res, re)
	}
	return res, nil
}

// exclude returns the tags no pattern matches, in their order.
func exclude(tags []string, res []*regexp.Regexp) []string {
	if len(res) == 0 {
		return tags
	}
	// In place: the list is the scan's own, and a copy of ten thousand
	// tags per scan adds up when twenty scan at once.
	return slices.DeleteFunc(tags, func(tag string) bool {
		return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(tag) })
	})
}
