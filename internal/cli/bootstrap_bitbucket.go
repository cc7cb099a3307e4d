package cli

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

var bitbucketProjectRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

func newBootstrapBitbucketServerCommand(f *Factory, b *bootstrapOptions) *cobra.Command {
	return newHostedBootstrapCommand(f, b, hostingKind{
		command: "bitbucket-server", name: "Bitbucket Server", tokenEnv: "BITBUCKET_TOKEN",
		tokenScope:  "the Project admin permission (Repository admin on an existing repository)",
		defaultHost: "", teamFlag: "group", defaultPermission: "push",
		permissions: []string{"pull", "push", "admin"},
		validate: func(o *hostedOptions) error {
			if !o.personal && !bitbucketProjectRE.MatchString(o.owner) {
				return fmt.Errorf("invalid --owner %q: give the key of a Bitbucket Server project (letters, digits, '_'), or a user with --personal", o.owner)
			}
			if o.personal && !repoNameRE.MatchString(o.owner) {
				return fmt.Errorf("invalid --owner %q: give a Bitbucket Server user slug", o.owner)
			}
			return checkRepoName(o.repository, "Bitbucket Server")
		},
		newAPI: newBitbucketAPI,
		example: `  # Create a Bitbucket Server API token and export it as an env var
  export BITBUCKET_TOKEN=<my-token>

  # Run bootstrap for a private repository using HTTPS token authentication
  flux bootstrap bitbucket-server --owner=<project> --username=<user> --repository=<repository name> --hostname=<domain> --token-auth --path=clusters/my-cluster

  # Run bootstrap for a private repository using SSH authentication
  flux bootstrap bitbucket-server --owner=<project> --username=<user> --repository=<repository name> --hostname=<domain> --path=clusters/my-cluster

  # Run bootstrap for a public repository on a personal account
  flux bootstrap bitbucket-server --owner=<user> --repository=<repository name> --private=false --personal --hostname=<domain> --token-auth --path=clusters/my-cluster`,
	})
}

// bitbucketAPI is Bitbucket Server through bitbucketClient. A personal
// repository lives in the user's project, "~USER".
type bitbucketAPI struct {
	c             *bitbucketClient
	project, name string
	slug          string
}

func newBitbucketAPI(cfg hostedConfig) (hostingAPI, error) {
	hc, err := hostingHTTPClient(cfg.ca)
	if err != nil {
		return nil, err
	}
	project := cfg.o.owner
	if cfg.o.personal {
		project = "~" + cfg.o.owner
	}
	return &bitbucketAPI{
		c:       &bitbucketClient{base: apiBaseURL(cfg.o.hostname), token: cfg.token, hc: hc},
		project: project, name: cfg.o.repository, slug: strings.ToLower(cfg.o.repository),
	}, nil
}

func (a *bitbucketAPI) full() string { return a.project + "/" + a.slug }

func bbVisibility(r *bitbucketRepo) string {
	if r.Public {
		return "public"
	}
	return "private"
}

func (a *bitbucketAPI) ensureRepository(ctx context.Context, want repoSettings) (hostedRepository, error) {
	out := hostedRepository{fullName: a.full()}
	r, status, err := a.c.getRepo(ctx, a.project, a.slug)
	switch {
	case status == http.StatusNotFound:
		r, status, err = a.c.createRepo(ctx, a.project, a.name, want.visibility == "public")
		if status == http.StatusNotFound {
			return out, fmt.Errorf("project %q not found on Bitbucket Server: check --owner (a project key, or a user with --personal)", a.project)
		}
		if err != nil {
			return out, hostErr(status, "create repository "+a.full(), err)
		}
		out.created = true
	case err != nil:
		return out, hostErr(status, "read repository "+a.full(), err)
	case want.reconcile && bbVisibility(r) != want.visibility:
		if r, status, err = a.c.setPublic(ctx, a.project, a.slug, want.visibility == "public"); err != nil {
			return out, hostErr(status, "change the visibility of repository "+a.full(), err)
		}
		out.changed = true
	}
	if r.Slug != "" {
		a.slug = r.Slug
	}
	out.fullName, out.visibility = a.full(), bbVisibility(r)
	out.httpURL, out.sshURL = r.cloneURL("http"), r.cloneURL("ssh")
	return out, nil
}

// bitbucketPermission maps Flux's permission names to repository
// permissions.
var bitbucketPermission = map[string]string{"pull": "REPO_READ", "push": "REPO_WRITE", "admin": "REPO_ADMIN"}

func (a *bitbucketAPI) ensureTeamAccess(ctx context.Context, group, permission string, reconcile bool) (bool, error) {
	want := bitbucketPermission[permission]
	have, status, err := a.c.groupPermission(ctx, a.project, a.slug, group)
	if err != nil {
		return false, hostErr(status, fmt.Sprintf("read the permission of group %s on %s", group, a.full()), err)
	}
	if have == want || (have != "" && !reconcile) {
		return false, nil
	}
	if status, err := a.c.setGroupPermission(ctx, a.project, a.slug, group, want); err != nil {
		return false, hostErr(status, fmt.Sprintf("grant group %s %s on %s", group, want, a.full()), err)
	}
	return true, nil
}

func (a *bitbucketAPI) ensureDeployKey(ctx context.Context, key deployKey) (keyChange, error) {
	keys, status, err := a.c.accessKeys(ctx, a.project, a.slug)
	if err != nil {
		return keyChange{}, hostErr(status, "list the access keys of "+a.full(), err)
	}
	existing := make([]existingKey, 0, len(keys))
	for _, k := range keys {
		existing = append(existing, existingKey{id: k.Key.ID, title: k.Key.Label, key: k.Key.Text, readOnly: k.Permission == "REPO_READ"})
	}
	keep, remove := planDeployKey(existing, key)
	if keep != nil {
		return keyChange{kept: keep.title}, nil
	}
	var change keyChange
	for _, k := range remove {
		if status, err := a.c.deleteAccessKey(ctx, a.project, a.slug, k.id); err != nil {
			return change, hostErr(status, fmt.Sprintf("delete access key %q of %s", k.title, a.full()), err)
		}
		change.replaced = append(change.replaced, k.title)
	}
	permission := "REPO_READ"
	if !key.readOnly {
		permission = "REPO_WRITE"
	}
	if status, err := a.c.addAccessKey(ctx, a.project, a.slug, key.title, key.publicKey, permission); err != nil {
		return change, hostErr(status, "add access key to "+a.full(), err)
	}
	change.added = true
	return change, nil
}
