package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v93/github"
	"github.com/spf13/cobra"
)

func newBootstrapGitHubCommand(f *Factory, b *bootstrapOptions) *cobra.Command {
	return newHostedBootstrapCommand(f, b, hostingKind{
		command: "github", name: "GitHub", tokenEnv: "GITHUB_TOKEN",
		tokenScope:  "the repo scope (classic token), or Administration and Contents read/write on the repository (fine-grained token); --team also needs admin:org",
		defaultHost: "github.com", teamFlag: "team", defaultPermission: "maintain",
		permissions: []string{"pull", "triage", "push", "maintain", "admin"},
		validate: func(o *hostedOptions) error {
			if !githubOwnerRE.MatchString(o.owner) {
				return fmt.Errorf("invalid --owner %q: a GitHub user or organization name has up to 39 letters, digits or single dashes", o.owner)
			}
			return checkRepoName(o.repository, "GitHub")
		},
		newAPI: newGitHubAPI,
		example: `  # Create a GitHub personal access token and export it as an env var
  export GITHUB_TOKEN=<my-token>

  # Run bootstrap for a private repository owned by a GitHub organization
  flux bootstrap github --owner=<organization> --repository=<repository name> --path=clusters/my-cluster

  # Run bootstrap for a private repository and assign organization teams with their access level to it
  flux bootstrap github --owner=<organization> --repository=<repository name> --team=<team1 slug>:<access-level> --path=clusters/my-cluster

  # Run bootstrap for a public repository on a personal account
  flux bootstrap github --owner=<user> --repository=<repository name> --private=false --personal=true --path=clusters/my-cluster

  # Run bootstrap for a private repository hosted on GitHub Enterprise using HTTPS auth
  flux bootstrap github --owner=<organization> --repository=<repository name> --hostname=<domain> --token-auth --path=clusters/my-cluster`,
	})
}

// githubAPI is the GitHub REST API through go-github; GitHub Enterprise
// (any --hostname but github.com) is served under /api/v3.
type githubAPI struct {
	c           *github.Client
	owner, repo string
	personal    bool
}

func newGitHubAPI(cfg hostedConfig) (hostingAPI, error) {
	hc, err := hostingHTTPClient(cfg.ca)
	if err != nil {
		return nil, err
	}
	opts := []github.ClientOptionsFunc{github.WithHTTPClient(hc), github.WithAuthToken(cfg.token), github.WithDisableRateLimitCheck()}
	if cfg.o.hostname != "github.com" {
		base := apiBaseURL(cfg.o.hostname) + "/api/v3/"
		opts = append(opts, github.WithEnterpriseURLs(base, base))
	}
	c, err := github.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("GitHub client for %s: %w", cfg.o.hostname, err)
	}
	return &githubAPI{c: c, owner: cfg.o.owner, repo: cfg.o.repository, personal: cfg.o.personal}, nil
}

func ghStatus(resp *github.Response) int {
	if resp == nil || resp.Response == nil {
		return 0
	}
	return resp.StatusCode
}

func ghNotFound(resp *github.Response, err error) bool {
	var e *github.ErrorResponse
	return ghStatus(resp) == http.StatusNotFound || (errors.As(err, &e) && e.Response != nil && e.Response.StatusCode == http.StatusNotFound)
}

func ghVisibility(r *github.Repository) string {
	if r.GetPrivate() {
		return "private"
	}
	return "public"
}

func (g *githubAPI) full() string { return g.owner + "/" + g.repo }

func (g *githubAPI) ensureRepository(ctx context.Context, want repoSettings) (hostedRepository, error) {
	r, resp, err := g.c.Repositories.Get(ctx, g.owner, g.repo)
	out := hostedRepository{fullName: g.full()}
	switch {
	case ghNotFound(resp, err):
		if r, err = g.create(ctx, want); err != nil {
			return out, err
		}
		out.created = true
	case err != nil:
		return out, hostErr(ghStatus(resp), "read repository "+g.full(), err)
	case want.reconcile && ghVisibility(r) != want.visibility:
		r, resp, err = g.c.Repositories.Edit(ctx, g.owner, g.repo, &github.Repository{Private: github.Ptr(want.visibility == "private")})
		if err != nil {
			return out, hostErr(ghStatus(resp), "change the visibility of repository "+g.full(), err)
		}
		out.changed = true
	}
	out.httpURL, out.sshURL, out.visibility = r.GetCloneURL(), r.GetSSHURL(), ghVisibility(r)
	return out, nil
}

// create makes the repository, initialised with a README so that its
// default branch exists, under the organization or the token's user.
func (g *githubAPI) create(ctx context.Context, want repoSettings) (*github.Repository, error) {
	org := g.owner
	if g.personal {
		org = ""
		me, resp, err := g.c.Users.Get(ctx, "")
		if err != nil {
			return nil, hostErr(ghStatus(resp), "read the token's user", err)
		}
		if !strings.EqualFold(me.GetLogin(), g.owner) {
			return nil, fmt.Errorf("--owner %q does not match the user of GITHUB_TOKEN (%s): with --personal the repository is created for the token's user",
				g.owner, me.GetLogin())
		}
	}
	body := github.CreateRepositoryRequest{Name: g.repo, Private: github.Ptr(want.visibility == "private"), AutoInit: github.Ptr(true)}
	r, resp, err := g.c.Repositories.Create(ctx, org, body)
	if err != nil {
		if !g.personal && ghNotFound(resp, err) {
			return nil, fmt.Errorf("organization %q not found on GitHub: check --owner, or pass --personal for a user's repository", g.owner)
		}
		return nil, hostErr(ghStatus(resp), "create repository "+g.full(), err)
	}
	return r, nil
}

func (g *githubAPI) ensureTeamAccess(ctx context.Context, team, permission string, reconcile bool) (bool, error) {
	r, resp, err := g.c.Teams.IsTeamRepoBySlug(ctx, g.owner, team, g.owner, g.repo)
	switch {
	case err == nil && !reconcile:
		return false, nil
	case err == nil && teamHasPermission(r.GetPermissions(), permission):
		return false, nil
	case err != nil && !ghNotFound(resp, err):
		return false, hostErr(ghStatus(resp), fmt.Sprintf("read the access of team %s to %s", team, g.full()), err)
	}
	resp, err = g.c.Teams.AddTeamRepoBySlug(ctx, g.owner, team, g.owner, g.repo, github.AddTeamRepoRequest{Permission: github.Ptr(permission)})
	if err != nil {
		return false, hostErr(ghStatus(resp), fmt.Sprintf("grant team %s access to %s", team, g.full()), err)
	}
	return true, nil
}

// teamHasPermission: GitHub reports a team's access as the set of
// permissions it implies; the highest true one is the team's.
func teamHasPermission(perms *github.RepositoryPermissions, want string) bool {
	if perms == nil {
		return false
	}
	for _, p := range []struct {
		name string
		set  *bool
	}{{"admin", perms.Admin}, {"maintain", perms.Maintain}, {"push", perms.Push}, {"triage", perms.Triage}, {"pull", perms.Pull}} {
		if p.set != nil && *p.set {
			return p.name == want
		}
	}
	return false
}

func (g *githubAPI) ensureDeployKey(ctx context.Context, key deployKey) (keyChange, error) {
	var existing []existingKey
	opts := &github.ListOptions{PerPage: 100}
	for {
		keys, resp, err := g.c.Repositories.ListKeys(ctx, g.owner, g.repo, opts)
		if err != nil {
			return keyChange{}, hostErr(ghStatus(resp), "list the deploy keys of "+g.full(), err)
		}
		for _, k := range keys {
			existing = append(existing, existingKey{id: k.GetID(), title: k.GetTitle(), key: k.GetKey(), readOnly: k.GetReadOnly()})
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	keep, remove := planDeployKey(existing, key)
	if keep != nil {
		return keyChange{kept: keep.title}, nil
	}
	var change keyChange
	for _, k := range remove {
		if resp, err := g.c.Repositories.DeleteKey(ctx, g.owner, g.repo, k.id); err != nil {
			return change, hostErr(ghStatus(resp), fmt.Sprintf("delete deploy key %q of %s", k.title, g.full()), err)
		}
		change.replaced = append(change.replaced, k.title)
	}
	body := github.CreateDeployKeyRequest{Title: github.Ptr(key.title), Key: key.publicKey, ReadOnly: github.Ptr(key.readOnly)}
	if _, resp, err := g.c.Repositories.CreateKey(ctx, g.owner, g.repo, body); err != nil {
		return change, hostErr(ghStatus(resp), "add deploy key to "+g.full(), err)
	}
	change.added = true
	return change, nil
}
