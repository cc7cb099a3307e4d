package cli

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"code.gitea.io/sdk/gitea"
	"github.com/spf13/cobra"
)

func newBootstrapGiteaCommand(f *Factory, b *bootstrapOptions) *cobra.Command {
	return newHostedBootstrapCommand(f, b, hostingKind{
		command: "gitea", name: "Gitea", tokenEnv: "GITEA_TOKEN",
		tokenScope:  "the read:misc and write:repository scopes, plus write:user (personal) or write:organization (organization) to create the repository",
		defaultHost: "gitea.com", teamFlag: "team", defaultPermission: "maintain",
		permissions: []string{"pull", "triage", "push", "maintain", "admin"},
		validate: func(o *hostedOptions) error {
			if !repoNameRE.MatchString(o.owner) || strings.HasPrefix(o.owner, ".") {
				return fmt.Errorf("invalid --owner %q: a Gitea user or organization name has letters, digits, '-', '_' or '.'", o.owner)
			}
			return checkRepoName(o.repository, "Gitea")
		},
		newAPI: newGiteaAPI,
		example: `  # Create a Gitea personal access token and export it as an env var
  export GITEA_TOKEN=<my-token>

  # Run bootstrap for a private repository owned by a Gitea organization
  flux bootstrap gitea --owner=<organization> --repository=<repository name> --path=clusters/my-cluster

  # Run bootstrap for a private repository and assign organization teams to it
  flux bootstrap gitea --owner=<organization> --repository=<repository name> --team=<team1 slug> --team=<team2 slug> --path=clusters/my-cluster

  # Run bootstrap for a public repository on a personal account
  flux bootstrap gitea --owner=<user> --repository=<repository name> --private=false --personal=true --path=clusters/my-cluster`,
	})
}

// giteaAPI is the Gitea REST API (v1) through Gitea's SDK.
type giteaAPI struct {
	c           *gitea.Client
	owner, repo string
	personal    bool
}

func newGiteaAPI(cfg hostedConfig) (hostingAPI, error) {
	hc, err := hostingHTTPClient(cfg.ca)
	if err != nil {
		return nil, err
	}
	// The server's version is not probed: bootstrap uses only calls every
	// supported Gitea has.
	c, err := gitea.NewClient(apiBaseURL(cfg.o.hostname), gitea.SetHTTPClient(hc), gitea.SetToken(cfg.token), gitea.SetGiteaVersion(""))
	if err != nil {
		return nil, fmt.Errorf("Gitea client for %s: %w", cfg.o.hostname, err)
	}
	return &giteaAPI{c: c, owner: cfg.o.owner, repo: cfg.o.repository, personal: cfg.o.personal}, nil
}

func gtStatus(resp *gitea.Response) int {
	if resp == nil || resp.Response == nil {
		return 0
	}
	return resp.StatusCode
}

func gtVisibility(r *gitea.Repository) string {
	if r.Private {
		return "private"
	}
	return "public"
}

func (g *giteaAPI) full() string { return g.owner + "/" + g.repo }

func (g *giteaAPI) ensureRepository(ctx context.Context, want repoSettings) (hostedRepository, error) {
	g.c.SetContext(ctx)
	out := hostedRepository{fullName: g.full()}
	r, resp, err := g.c.GetRepo(g.owner, g.repo)
	switch {
	case gtStatus(resp) == http.StatusNotFound:
		if r, err = g.create(want); err != nil {
			return out, err
		}
		out.created = true
	case err != nil:
		return out, hostErr(gtStatus(resp), "read repository "+g.full(), err)
	case want.reconcile && gtVisibility(r) != want.visibility:
		private := want.visibility == "private"
		if r, resp, err = g.c.EditRepo(g.owner, g.repo, gitea.EditRepoOption{Private: &private}); err != nil {
			return out, hostErr(gtStatus(resp), "change the visibility of repository "+g.full(), err)
		}
		out.changed = true
	}
	out.httpURL, out.sshURL, out.visibility = r.CloneURL, r.SSHURL, gtVisibility(r)
	return out, nil
}

func (g *giteaAPI) create(want repoSettings) (*gitea.Repository, error) {
	opt := gitea.CreateRepoOption{Name: g.repo, Private: want.visibility == "private", AutoInit: true}
	if !g.personal {
		r, resp, err := g.c.CreateOrgRepo(g.owner, opt)
		if gtStatus(resp) == http.StatusNotFound {
			return nil, fmt.Errorf("organization %q not found on Gitea: check --owner, or pass --personal for a user's repository", g.owner)
		}
		return r, hostErr(gtStatus(resp), "create repository "+g.full(), err)
	}
	me, resp, err := g.c.GetMyUserInfo()
	if err != nil {
		return nil, hostErr(gtStatus(resp), "read the token's user", err)
	}
	if !strings.EqualFold(me.UserName, g.owner) {
		return nil, fmt.Errorf("--owner %q does not match the user of GITEA_TOKEN (%s): with --personal the repository is created for the token's user",
			g.owner, me.UserName)
	}
	r, resp, err := g.c.CreateRepo(opt)
	return r, hostErr(gtStatus(resp), "create repository "+g.full(), err)
}

// ensureTeamAccess adds the team to the repository. A Gitea team's
// permission belongs to the team, not to the grant, so permission is not
// sent and an existing grant is left as it is.
func (g *giteaAPI) ensureTeamAccess(ctx context.Context, team, _ string, _ bool) (bool, error) {
	g.c.SetContext(ctx)
	// The SDK answers a team without access with nil and no error.
	found, resp, err := g.c.CheckRepoTeam(g.owner, g.repo, team)
	switch {
	case err != nil:
		return false, hostErr(gtStatus(resp), fmt.Sprintf("read the access of team %s to %s", team, g.full()), err)
	case found != nil:
		return false, nil
	}
	resp, err = g.c.AddRepoTeam(g.owner, g.repo, team)
	if err != nil {
		return false, hostErr(gtStatus(resp), fmt.Sprintf("grant team %s access to %s", team, g.full()), err)
	}
	return true, nil
}

func (g *giteaAPI) ensureDeployKey(ctx context.Context, key deployKey) (keyChange, error) {
	g.c.SetContext(ctx)
	var existing []existingKey
	for page := 1; ; page++ {
		keys, resp, err := g.c.ListDeployKeys(g.owner, g.repo, gitea.ListDeployKeysOptions{ListOptions: gitea.ListOptions{Page: page, PageSize: 50}})
		if err != nil {
			return keyChange{}, hostErr(gtStatus(resp), "list the deploy keys of "+g.full(), err)
		}
		for _, k := range keys {
			existing = append(existing, existingKey{id: k.ID, title: k.Title, key: k.Key, readOnly: k.ReadOnly})
		}
		if len(keys) < 50 {
			break
		}
	}
	keep, remove := planDeployKey(existing, key)
	if keep != nil {
		return keyChange{kept: keep.title}, nil
	}
	var change keyChange
	for _, k := range remove {
		if resp, err := g.c.DeleteDeployKey(g.owner, g.repo, k.id); err != nil {
			return change, hostErr(gtStatus(resp), fmt.Sprintf("delete deploy key %q of %s", k.title, g.full()), err)
		}
		change.replaced = append(change.replaced, k.title)
	}
	_, resp, err := g.c.CreateDeployKey(g.owner, g.repo, gitea.CreateKeyOption{Title: key.title, Key: key.publicKey, ReadOnly: key.readOnly})
	if err != nil {
		return change, hostErr(gtStatus(resp), "add deploy key to "+g.full(), err)
	}
	change.added = true
	return change, nil
}
