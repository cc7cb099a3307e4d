package oci

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// blob copies the blob of d to w: at most d.Size bytes, and only a blob of
// exactly that size and digest is accepted.
func (s *session) blob(ctx context.Context, d v1.Descriptor, w io.Writer) error {
	ref := d.Digest.String()
	h, err := v1.Hasher(d.Digest.Algorithm)
	if err != nil {
		return &Error{Kind: ErrInvalidArtifact, Repository: s.repo, RefKind: "layer", Ref: ref, Err: err}
	}
	resp, err := s.do(ctx, http.MethodGet, s.url("blobs/"+ref), nil, http.StatusOK)
	if err != nil {
		return s.fail("layer", ref, err)
	}
	defer resp.Body.Close()
	mismatch := func(format string, args ...any) error {
		return &Error{Kind: ErrDigestMismatch, Repository: s.repo, RefKind: "layer", Ref: ref, Detail: fmt.Sprintf(format, args...)}
	}
	if resp.ContentLength > d.Size {
		return mismatch("the registry announces %d bytes, the manifest describes %d", resp.ContentLength, d.Size)
	}
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(resp.Body, d.Size+1))
	if err != nil {
		return s.fail("layer", ref, err)
	}
	if n != d.Size {
		return mismatch("the registry sent %s bytes, the manifest describes %d", sent(n, d.Size), d.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != d.Digest.Hex {
		return mismatch("the registry sent a blob with digest %s:%s", d.Digest.Algorithm, got)
	}
	return nil
}

func sent(n, size int64) string {
	if n > size {
		return fmt.Sprintf("more than %d", size)
	}
	return fmt.Sprint(n)
}

// maxTagPages and maxTagPageSize bound a tag listing.
const (
	maxTagPages    = 10000
	maxTagPageSize = 16 << 20
)

// tags lists every tag of the repository, following the Link header from
// page to page, sorted and without duplicates (registries neither sort nor
// page alike).
func (s *session) tags(ctx context.Context) ([]string, error) {
	next := s.url("tags/list")
	visited := map[string]bool{}
	var tags []string
	for page := 0; next != ""; page++ {
		if page == maxTagPages || visited[next] {
			return nil, &Error{Kind: ErrRegistry, Repository: s.repo,
				Detail: fmt.Sprintf("the tag list did not end after %d pages", page)}
		}
		visited[next] = true
		resp, err := s.do(ctx, http.MethodGet, next, nil, http.StatusOK)
		if err != nil {
			return nil, s.fail("", "", err)
		}
		var body struct {
			Tags []string `json:"tags"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, maxTagPageSize)).Decode(&body)
		_ = resp.Body.Close()
		if err != nil {
			return nil, s.fail("", "", fmt.Errorf("reading the tag list: %w", err))
		}
		if tags == nil {
			tags = body.Tags // most lists are one page: no copy
		} else {
			tags = append(tags, body.Tags...)
		}
		if next, err = s.nextPage(resp); err != nil {
			return nil, &Error{Kind: ErrRegistry, Repository: s.repo, Detail: "reading the tag list", Err: err}
		}
	}
	slices.Sort(tags)
	return slices.Compact(tags), nil
}

// nextPage returns the rel="next" link of a tag list page, "" at the end.
// It must point at the registry itself.
func (s *session) nextPage(resp *http.Response) (string, error) {
	for _, link := range resp.Header.Values("Link") {
		for _, part := range strings.Split(link, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			if !ok || !isNext(params) {
				continue
			}
			target = strings.TrimSpace(target)
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				return "", fmt.Errorf("invalid Link header")
			}
			u, err := url.Parse(target[1 : len(target)-1])
			if err != nil {
				return "", fmt.Errorf("invalid Link header: %w", err)
			}
			u = resp.Request.URL.ResolveReference(u)
			if u.Host != s.name.RegistryStr() || (u.Scheme != "http" && u.Scheme != "https") {
				return "", errors.New("the next page link points away from the registry")
			}
			u.Scheme = s.scheme
			return u.String(), nil
		}
	}
	return "", nil
}

func isNext(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "rel") && strings.Trim(v, `"`) == "next" {
			return true
		}
	}
	return false
}
