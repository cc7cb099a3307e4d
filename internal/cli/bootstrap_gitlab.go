package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

func newBootstrapGitLabCommand(f *Factory, b *bootstrapOptions) *cobra.Command {
	return newHostedBootstrapCommand(f, b, hostingKind{
		command: "gitlab", name: "GitLab", tokenEnv: "GITLAB_TOKEN",
		tokenScope:  "the api scope and the Maintainer role (Owner to create a project in a group)",
		defaultHost: "gitlab.com", teamFlag: "team", defaultPermission: "maintain",
		permissions: []string{"pull", "triage", "push", "maintain", "admin"},
		validate: func(o *hostedOptions) error {
			if !gitlabGroupRE.MatchString(o.owner) {
				return fmt.Errorf("invalid --owner %q: give a GitLab user or group path, e.g. my-group or my-group/sub-group", o.owner)
			}
			sub, name := splitSubgroups(o.repository)
			if sub != "" && !gitlabGroupRE.MatchString(sub) || !gitlabProjectRE.MatchString(name) {
				return fmt.Errorf("invalid --repository %q: a GitLab project name contains only letters, digits, emojis, '_', '.', dash and space, "+
					"and starts with a letter, digit, emoji or '_'", o.repository)
			}
			return nil
		},
		newAPI: newGitLabAPI,
		example: `  # Create a GitLab API token and export it as an env var
  export GITLAB_TOKEN=<my-token>

  # Run bootstrap for a private repository using HTTPS token authentication
  flux bootstrap gitlab --owner=<group> --repository=<repository name> --token-auth --path=clusters/my-cluster

  # Run bootstrap for a private repository using SSH authentication
  flux bootstrap gitlab --owner=<group> --repository=<repository name> --path=clusters/my-cluster

  # Run bootstrap for a public repository
  flux bootstrap gitlab --owner=<group> --repository=<repository name> --visibility=public --token-auth

  # Run bootstrap for a private repository hosted on a GitLab server
  flux bootstrap gitlab --owner=<group> --repository=<repository name> --hostname=<gitlab_url> --token-auth

  # Run bootstrap for a private repository using Deploy Token authentication
  flux bootstrap gitlab --owner=<group> --repository=<repository name> --deploy-token-auth`,
	})
}

// splitSubgroups splits "sub/group/name" into the subgroups and the name.
func splitSubgroups(repository string) (string, string) {
	i := strings.LastIndex(repository, "/")
	if i < 0 {
		return "", repository
	}
	return repository[:i], repository[i+1:]
}

// gitlabAPI is the GitLab REST API (v4) through GitLab's client-go. The
// project is addressed by its path, owner/[subgroups/]name.
type gitlabAPI struct {
	c        *gitlab.Client
	owner    string
	group    string // owner plus the repository's subgroups
	name     string
	personal bool
}

// noLimit leaves rate limiting to the server: the client's own limiter
// would first probe the API for its limits.
type noLimit struct{}

func (noLimit) Wait(context.Context) error { return nil }

func newGitLabAPI(cfg hostedConfig) (hostingAPI, error) {
	hc, err := hostingHTTPClient(cfg.ca)
	if err != nil {
		return nil, err
	}
	c, err := gitlab.NewClient(cfg.token, gitlab.WithBaseURL(apiBaseURL(cfg.o.hostname)), gitlab.WithHTTPClient(hc),
		gitlab.WithoutRetries(), gitlab.WithCustomLimiter(noLimit{}))
	if err != nil {
		return nil, fmt.Errorf("GitLab client for %s: %w", cfg.o.hostname, err)
	}
	sub, name := splitSubgroups(cfg.o.repository)
	group := cfg.o.owner
	if sub != "" {
		group += "/" + sub
	}
	return &gitlabAPI{c: c, owner: cfg.o.owner, group: group, name: name, personal: cfg.o.personal}, nil
}

func (g *gitlabAPI) pid() string { return g.group + "/" + g.name }

func glStatus(resp *gitlab.Response, err error) int {
	if resp != nil && resp.Response != nil {
		return resp.StatusCode
	}
	var e *gitlab.ErrorResponse
	if errors.As(err, &e) && e.Response != nil {
		return e.Response.StatusCode
	}
	return 0
}

func (g *gitlabAPI) opts(ctx context.Context) gitlab.RequestOptionFunc {
	return gitlab.WithContext(ctx)
}

func (g *gitlabAPI) ensureRepository(ctx context.Context, want repoSettings) (hostedRepository, error) {
	out := hostedRepository{fullName: g.pid()}
	p, resp, err := g.c.Projects.GetProject(g.pid(), nil, g.opts(ctx))
	switch status := glStatus(resp, err); {
	case status == http.StatusNotFound:
		if p, err = g.create(ctx, want); err != nil {
			return out, err
		}
		out.created = true
	case err != nil:
		return out, hostErr(status, "read project "+g.pid(), err)
	case want.reconcile && string(p.Visibility) != want.visibility:
		vis := gitlab.VisibilityValue(want.visibility)
		p, resp, err = g.c.Projects.EditProject(g.pid(), &gitlab.EditProjectOptions{Visibility: &vis}, g.opts(ctx))
		if err != nil {
			return out, hostErr(glStatus(resp, err), "change the visibility of project "+g.pid(), err)
		}
		out.changed = true
	}
	out.httpURL, out.sshURL, out.visibility = p.HTTPURLToRepo, p.SSHURLToRepo, string(p.Visibility)
	return out, nil
}

// create makes the project with a README, in the group (looked up for its
// id) or, with --personal, in the token user's namespace.
func (g *gitlabAPI) create(ctx context.Context, want repoSettings) (*gitlab.Project, error) {
	vis := gitlab.VisibilityValue(want.visibility)
	opt := &gitlab.CreateProjectOptions{Name: gitlab.Ptr(g.name), Path: gitlab.Ptr(g.name), Visibility: &vis,
		InitializeWithReadme: gitlab.Ptr(true)}
	if g.personal {
		me, resp, err := g.c.Users.CurrentUser(g.opts(ctx))
		if err != nil {
			return nil, hostErr(glStatus(resp, err), "read the token's user", err)
		}
		if !strings.EqualFold(me.Username, g.owner) {
			return nil, fmt.Errorf("--owner %q does not match the user of GITLAB_TOKEN (%s): with --personal the project is created for the token's user",
				g.owner, me.Username)
		}
	} else {
		grp, resp, err := g.c.Groups.GetGroup(g.group, nil, g.opts(ctx))
		if err != nil {
			if glStatus(resp, err) == http.StatusNotFound {
				return nil, fmt.Errorf("group %q not found on GitLab: check --owner (and the subgroups in --repository), or pass --personal", g.group)
			}
			return nil, hostErr(glStatus(resp, err), "read group "+g.group, err)
		}
		opt.NamespaceID = gitlab.Ptr(grp.ID)
	}
	p, resp, err := g.c.Projects.CreateProject(opt, g.opts(ctx))
	if err != nil {
		return nil, hostErr(glStatus(resp, err), "create project "+g.pid(), err)
	}
	return p, nil
}

// gitlabAccess maps Flux's permission names to GitLab access levels.
var gitlabAccess = map[string]gitlab.AccessLevelValue{
	"pull": gitlab.ReporterPermissions, "triage": gitlab.ReporterPermissions, "push": gitlab.DeveloperPermissions,
	"maintain": gitlab.MaintainerPermissions, "admin": gitlab.OwnerPermissions,
}

// ensureTeamAccess shares the project with the group named team.
func (g *gitlabAPI) ensureTeamAccess(ctx context.Context, team, permission string, reconcile bool) (bool, error) {
	p, resp, err := g.c.Projects.GetProject(g.pid(), nil, g.opts(ctx))
	if err != nil {
		return false, hostErr(glStatus(resp, err), "read project "+g.pid(), err)
	}
	level := gitlabAccess[permission]
	for _, s := range p.SharedWithGroups {
		if s.GroupFullPath != team && s.GroupName != team {
			continue
		}
		if !reconcile || s.GroupAccessLevel == int64(level) {
			return false, nil
		}
		if resp, err := g.c.Projects.DeleteSharedProjectFromGroup(g.pid(), s.GroupID, g.opts(ctx)); err != nil {
			return false, hostErr(glStatus(resp, err), fmt.Sprintf("change the access of group %s to %s", team, g.pid()), err)
		}
	}
	grp, resp, err := g.c.Groups.GetGroup(team, nil, g.opts(ctx))
	if err != nil {
		return false, hostErr(glStatus(resp, err), "read group "+team, err)
	}
	resp, err = g.c.Projects.ShareProjectWithGroup(g.pid(), &gitlab.ShareWithGroupOptions{GroupID: gitlab.Ptr(grp.ID), GroupAccess: &level}, g.opts(ctx))
	if err != nil {
		return false, hostErr(glStatus(resp, err), fmt.Sprintf("share %s with group %s", g.pid(), team), err)
	}
	return true, nil
}

func (g *gitlabAPI) ensureDeployKey(ctx context.Context, key deployKey) (keyChange, error) {
	var existing []existingKey
	opt := &gitlab.ListProjectDeployKeysOptions{}
	opt.PerPage = 100
	for {
		keys, resp, err := g.c.DeployKeys.ListProjectDeployKeys(g.pid(), opt, g.opts(ctx))
		if err != nil {
			return keyChange{}, hostErr(glStatus(resp, err), "list the deploy keys of "+g.pid(), err)
		}
		for _, k := range keys {
			existing = append(existing, existingKey{id: k.ID, title: k.Title, key: k.Key, readOnly: !k.CanPush})
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	keep, remove := planDeployKey(existing, key)
	if keep != nil {
		return keyChange{kept: keep.title}, nil
	}
	var change keyChange
	for _, k := range remove {
		if resp, err := g.c.DeployKeys.DeleteDeployKey(g.pid(), k.id, g.opts(ctx)); err != nil {
			return change, hostErr(glStatus(resp, err), fmt.Sprintf("delete deploy key %q of %s", k.title, g.pid()), err)
		}
		change.replaced = append(change.replaced, k.title)
	}
	_, resp, err := g.c.DeployKeys.AddDeployKey(g.pid(), &gitlab.AddDeployKeyOptions{
		Title: gitlab.Ptr(key.title), Key: gitlab.Ptr(key.publicKey), CanPush: gitlab.Ptr(!key.readOnly)}, g.opts(ctx))
	if err != nil {
		return change, hostErr(glStatus(resp, err), "add deploy key to "+g.pid(), err)
	}
	change.added = true
	return change, nil
}

// ensureDeployToken keeps the active read_repository token called name
// whose username the secret holds, else revokes tokens of that name and
// creates one.
func (g *gitlabAPI) ensureDeployToken(ctx context.Context, name, current string) (deployToken, bool, error) {
	tokens, resp, err := g.c.DeployTokens.ListProjectDeployTokens(g.pid(), &gitlab.ListProjectDeployTokensOptions{}, g.opts(ctx))
	if err != nil {
		return deployToken{}, false, hostErr(glStatus(resp, err), "list the deploy tokens of "+g.pid(), err)
	}
	for _, t := range tokens {
		if t.Name != name {
			continue
		}
		if !t.Revoked && !t.Expired && current != "" && t.Username == current {
			return deployToken{}, false, nil
		}
		if resp, err := g.c.DeployTokens.DeleteProjectDeployToken(g.pid(), t.ID, g.opts(ctx)); err != nil {
			return deployToken{}, false, hostErr(glStatus(resp, err), fmt.Sprintf("revoke deploy token %q of %s", name, g.pid()), err)
		}
	}
	t, resp, err := g.c.DeployTokens.CreateProjectDeployToken(g.pid(), &gitlab.CreateProjectDeployTokenOptions{
		Name: gitlab.Ptr(name), Scopes: gitlab.Ptr([]string{"read_repository"})}, g.opts(ctx))
	if err != nil {
		return deployToken{}, false, hostErr(glStatus(resp, err), "create a deploy token for "+g.pid(), err)
	}
	return deployToken{username: t.Username, token: t.Token}, true, nil
}
