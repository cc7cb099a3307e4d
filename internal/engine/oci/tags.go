package oci

import "context"

// Tags lists every tag of repo, sorted and without duplicates, with one
// request per page of the tag list and no manifest reads (List reads each
// tag's manifest). Errors are *Error values, as every call's.
func (c *Client) Tags(ctx context.Context, repo Repository) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	s, err := c.open(ctx, repo, false, "", "")
	if err != nil {
		return nil, err
	}
	return s.tags(ctx)
}
