package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/driftless/driftless/internal/engine/git"
)

// hostingAPI is what bootstrap asks of a Git hosting service (GitHub,
// GitLab, Gitea, Bitbucket Server) through its REST API. Each method makes
// one thing so and says what it found or changed; none deletes anything
// but a deploy key it replaces.
type hostingAPI interface {
	// ensureRepository finds the repository or creates it with the wanted
	// visibility. An existing repository's visibility is changed only
	// with want.reconcile.
	ensureRepository(ctx context.Context, want repoSettings) (hostedRepository, error)
	// ensureTeamAccess grants a team (a group on Bitbucket Server) a
	// permission on the repository. An existing grant is changed only
	// with reconcile. It reports whether it changed anything.
	ensureTeamAccess(ctx context.Context, team, permission string, reconcile bool) (bool, error)
	// ensureDeployKey registers key on the repository; see planDeployKey
	// for which existing keys are kept or replaced.
	ensureDeployKey(ctx context.Context, key deployKey) (keyChange, error)
}

// deployTokenAPI is the GitLab extra: a project deploy token the cluster
// reads the repository with over HTTPS.
type deployTokenAPI interface {
	// ensureDeployToken keeps the active token called name when its
	// username is current (the one the source secret holds) and returns
	// changed false; otherwise it revokes a token of that name and
	// creates a new one, whose secret value it returns.
	ensureDeployToken(ctx context.Context, name, current string) (tok deployToken, changed bool, err error)
}

type repoSettings struct {
	// visibility is private, public or (GitLab) internal.
	visibility string
	reconcile  bool
}

// hostedRepository is a repository as the hosting API describes it.
type hostedRepository struct {
	// fullName is owner/name, for messages.
	fullName string
	// httpURL and sshURL are the clone URLs the API reports.
	httpURL, sshURL string
	// visibility is the repository's visibility after ensureRepository.
	visibility       string
	created, changed bool
}

type deployKey struct {
	title, publicKey string
	readOnly         bool
}

type deployToken struct{ username, token string }

// keyChange says what ensureDeployKey did.
type keyChange struct {
	added bool
	// kept is the title of an existing key with the same public key.
	kept string
	// replaced are the titles of the keys deleted for the new one.
	replaced []string
}

// hostingKind describes one hosting service for the shared command.
type hostingKind struct {
	// command is the subcommand, name the service's name in messages.
	command, name string
	// tokenEnv is the environment variable holding the API token;
	// tokenScope says what the token needs, for 403 messages.
	tokenEnv, tokenScope string
	defaultHost          string
	// teamFlag is "team", or "group" on Bitbucket Server.
	teamFlag          string
	defaultPermission string
	permissions       []string
	// validate checks the names before anything is called.
	validate func(o *hostedOptions) error
	newAPI   func(c hostedConfig) (hostingAPI, error)
	example  string
}

// hostedOptions are the flags of a hosting provider subcommand.
type hostedOptions struct {
	owner, repository string
	personal, private bool
	visibility        string
	teams             []string
	hostname          string
	path              string
	interval          time.Duration
	readWriteKey      bool
	reconcile         bool
	deployTokenAuth   bool
	username          string
}

// hostedConfig is what a hostingAPI is built from.
type hostedConfig struct {
	o     *hostedOptions
	token string
	ca    []byte
}

func newHostedBootstrapCommand(f *Factory, b *bootstrapOptions, kind hostingKind) *cobra.Command {
	o := &hostedOptions{}
	cmd := &cobra.Command{
		Use:   kind.command,
		Short: fmt.Sprintf("Deploy Driftless on a cluster connected to a %s repository", kind.name),
		Long: fmt.Sprintf(`The bootstrap %s command creates the %s repository if it does not exist, grants
team access, registers a deploy key (or uses the token over HTTPS with --token-auth), commits
the install and sync manifests to the branch, installs the controller and configures the
cluster to reconcile itself from the repository. The API token is read from %s.
Running it again changes nothing unless a flag or the version changed.`, kind.command, kind.name, kind.tokenEnv),
		Example: kind.example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kind.command == "gitlab" {
				if err := o.gitlabVisibility(cmd); err != nil {
					return err
				}
			}
			h, err := newHostedProvider(f, b, o, kind)
			if err != nil {
				return err
			}
			return h.run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.owner, "owner", "", kind.name+" user or organization name")
	fl.StringVar(&o.repository, "repository", "", kind.name+" repository name")
	teamHelp := fmt.Sprintf("%s %s and the access to give it (%s:%s), %s access when no level is given (also accepts comma-separated values)",
		kind.name, kind.teamFlag, kind.teamFlag, kind.defaultPermission, kind.defaultPermission)
	fl.StringSliceVar(&o.teams, kind.teamFlag, nil, teamHelp)
	fl.BoolVar(&o.personal, "personal", false, "if true, the owner is assumed to be a "+kind.name+" user; otherwise an organization")
	fl.BoolVar(&o.private, "private", true, "if true, the repository is setup or configured as private")
	fl.DurationVar(&o.interval, "interval", time.Minute, "sync interval")
	fl.StringVar(&o.hostname, "hostname", kind.defaultHost, kind.name+" hostname")
	fl.StringVar(&o.path, "path", "", "path relative to the repository root, when specified the cluster sync will be scoped to this path")
	fl.BoolVar(&o.readWriteKey, "read-write-key", false, "if true, the deploy key is configured with read/write permissions")
	fl.BoolVar(&o.reconcile, "reconcile", false, "if true, the configured options are also reconciled if the repository already exists")
	switch kind.command {
	case "gitlab":
		fl.StringVar(&o.visibility, "visibility", "private", "specifies the visibility of the repository: private, public or internal")
		_ = fl.MarkDeprecated("private", "use --visibility instead")
		fl.BoolVar(&o.deployTokenAuth, "deploy-token-auth", false, "when enabled, a project deploy token is generated and used instead of an SSH deploy key")
	case "bitbucket-server":
		fl.StringVarP(&o.username, "username", "u", "git", "authentication username")
	}
	return cmd
}

// gitlabVisibility folds the deprecated --private into --visibility.
func (o *hostedOptions) gitlabVisibility(cmd *cobra.Command) error {
	if cmd.Flags().Changed("private") && !cmd.Flags().Changed("visibility") && !o.private {
		o.visibility = "public"
	}
	switch o.visibility {
	case "private", "public", "internal":
		return nil
	}
	return fmt.Errorf("invalid --visibility %q: use private, public or internal", o.visibility)
}

// hostedProvider is the bootstrapProvider of the hosting services: it
// drives one hostingAPI and remembers what it changed on the host, to say
// so when a later step fails.
type hostedProvider struct {
	f     *Factory
	b     *bootstrapOptions
	o     *hostedOptions
	kind  hostingKind
	api   hostingAPI
	token string
	ca    []byte
	teams [][2]string
	p     progress

	done     []string
	warnings []string
}

// newHostedProvider checks every flag, then builds the API client; nothing
// is called yet.
func newHostedProvider(f *Factory, b *bootstrapOptions, o *hostedOptions, kind hostingKind) (*hostedProvider, error) {
	token := f.Getenv(kind.tokenEnv)
	if token == "" {
		return nil, fmt.Errorf("%s is not set: export a %s personal access token with %s", kind.tokenEnv, kind.name, kind.tokenScope)
	}
	if o.owner == "" {
		return nil, fmt.Errorf("--owner is required: the %s user or organization that owns the repository", kind.name)
	}
	if o.repository == "" {
		return nil, errors.New("--repository is required: the name of the repository to bootstrap")
	}
	if o.hostname == "" {
		return nil, fmt.Errorf("--hostname is required for %s, e.g. --hostname=bitbucket.example.com", kind.name)
	}
	if err := kind.validate(o); err != nil {
		return nil, err
	}
	if o.interval <= 0 {
		return nil, fmt.Errorf("--interval must be positive, got %s", o.interval)
	}
	if b.tokenAuth && o.deployTokenAuth {
		return nil, errors.New("--token-auth and --deploy-token-auth cannot both be set: choose one")
	}
	teams, err := parseTeams(o.teams, kind)
	if err != nil {
		return nil, err
	}
	h := &hostedProvider{f: f, b: b, o: o, kind: kind, token: token, teams: teams, p: progress{f.Err}}
	if b.caFile != "" {
		if h.ca, err = os.ReadFile(b.caFile); err != nil {
			return nil, fmt.Errorf("read --ca-file: %w", err)
		}
	}
	if h.api, err = kind.newAPI(hostedConfig{o: o, token: token, ca: h.ca}); err != nil {
		return nil, err
	}
	return h, nil
}

// parseTeams splits "team:permission" values and checks the permissions.
func parseTeams(values []string, kind hostingKind) ([][2]string, error) {
	var out [][2]string
	for _, v := range values {
		name, perm, _ := strings.Cut(strings.TrimSpace(v), ":")
		if perm == "" {
			perm = kind.defaultPermission
		}
		if name == "" {
			return nil, fmt.Errorf("invalid --%s %q: give a %s name, optionally with :permission", kind.teamFlag, v, kind.teamFlag)
		}
		ok := false
		for _, p := range kind.permissions {
			ok = ok || p == perm
		}
		if !ok {
			return nil, fmt.Errorf("invalid permission %q for %s %q in --%s: use one of %s",
				perm, kind.teamFlag, name, kind.teamFlag, strings.Join(kind.permissions, ", "))
		}
		out = append(out, [2]string{name, perm})
	}
	return out, nil
}

func (h *hostedProvider) run(ctx context.Context) error {
	err := runBootstrap(ctx, h.f, h.b, h, h.o.path, h.o.interval)
	if err != nil && len(h.done) > 0 {
		return fmt.Errorf("%w\n(already done on %s: %s; these are kept and reused when the command runs again)",
			err, h.o.hostname, strings.Join(h.done, "; "))
	}
	if err == nil && len(h.warnings) > 0 {
		return fmt.Errorf("bootstrap finished with warnings: %s", strings.Join(h.warnings, "; "))
	}
	return err
}

func (h *hostedProvider) visibility() string {
	if h.o.visibility != "" {
		return h.o.visibility
	}
	if h.o.private {
		return "private"
	}
	return "public"
}

// repository finds or creates the repository and grants team access.
func (h *hostedProvider) repository(ctx context.Context) (bootstrapRepository, error) {
	h.p.action("connecting to %s", h.o.hostname)
	want := h.visibility()
	r, err := h.api.ensureRepository(ctx, repoSettings{visibility: want, reconcile: h.o.reconcile})
	if err != nil {
		return bootstrapRepository{}, h.apiError(err)
	}
	switch {
	case r.created:
		h.p.success("repository %q created", r.fullName)
		h.done = append(h.done, fmt.Sprintf("created %s repository %s", r.visibility, r.fullName))
	case r.changed:
		h.p.success("repository %q reconciled: it is now %s", r.fullName, r.visibility)
		h.done = append(h.done, fmt.Sprintf("made repository %s %s", r.fullName, r.visibility))
	case r.visibility != want:
		// Nothing is written yet: the repository existed and was read only.
		return bootstrapRepository{}, fmt.Errorf("repository %q is %s but %s asks for %s: nothing was changed; "+
			"pass the visibility it has, change it on %s, or run again with --reconcile to make it %s",
			r.fullName, r.visibility, h.visibilityFlag(), want, h.kind.name, want)
	}
	if err := h.grantTeams(ctx); err != nil {
		return bootstrapRepository{}, err
	}
	if r.httpURL == "" {
		return bootstrapRepository{}, fmt.Errorf("%s reported no HTTPS clone URL for %s", h.kind.name, r.fullName)
	}
	syncURL := r.httpURL
	if !h.b.tokenAuth && !h.o.deployTokenAuth {
		if syncURL, err = h.sshSyncURL(r); err != nil {
			return bootstrapRepository{}, err
		}
	}
	return bootstrapRepository{
		url: r.httpURL, redacted: r.httpURL, syncURL: syncURL,
		check: fmt.Sprintf("%s and its access to %s", h.kind.tokenEnv, r.fullName),
	}, nil
}

func (h *hostedProvider) visibilityFlag() string {
	if h.kind.command == "gitlab" {
		return "--visibility"
	}
	return fmt.Sprintf("--private=%t", h.o.private)
}

// grantTeams gives each --team its permission, on a best-effort basis as
// Flux does: a failure is reported and bootstrap goes on, but exits with
// an error at the end.
func (h *hostedProvider) grantTeams(ctx context.Context) error {
	if len(h.teams) == 0 {
		return nil
	}
	if h.o.personal {
		h.warn("--%s is ignored for a personal repository", h.kind.teamFlag)
		return nil
	}
	h.p.action("reconciling repository permissions")
	for _, t := range h.teams {
		changed, err := h.api.ensureTeamAccess(ctx, t[0], t[1], h.o.reconcile)
		switch {
		case err != nil:
			h.failure("failed to grant %q permissions to %q: %v", t[1], t[0], h.apiError(err))
			h.warnings = append(h.warnings, fmt.Sprintf("%s %q was not granted %q", h.kind.teamFlag, t[0], t[1]))
		case changed:
			h.p.success("granted %q permissions to %q", t[1], t[0])
			h.done = append(h.done, fmt.Sprintf("granted %s %s %s", h.kind.teamFlag, t[0], t[1]))
		}
	}
	h.p.success("reconciled repository permissions")
	return nil
}

// sshSyncURL is the SSH clone URL as an ssh:// URL, with --ssh-hostname
// as its host when given.
func (h *hostedProvider) sshSyncURL(r hostedRepository) (string, error) {
	if r.sshURL == "" {
		return "", fmt.Errorf("%s reported no SSH clone URL for %s: use --token-auth", h.kind.name, r.fullName)
	}
	u, err := sshURL(r.sshURL)
	if err != nil {
		return "", fmt.Errorf("SSH clone URL of %s: %w", r.fullName, err)
	}
	if h.b.sshHostname != "" {
		u.Host = h.b.sshHostname
	}
	return u.String(), nil
}

// sshURL parses an ssh:// URL or the scp-like user@host:path form.
func sshURL(raw string) (*url.URL, error) {
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, err
		}
		if u.Scheme != "ssh" {
			return nil, fmt.Errorf("%q is not an ssh:// URL", raw)
		}
		return u, nil
	}
	userHost, p, ok := strings.Cut(raw, ":")
	user, host, hasUser := strings.Cut(userHost, "@")
	if !ok || !hasUser || host == "" || p == "" {
		return nil, fmt.Errorf("%q is neither an ssh:// URL nor user@host:path", raw)
	}
	return &url.URL{Scheme: "ssh", User: url.User(user), Host: host, Path: "/" + strings.TrimPrefix(p, "/")}, nil
}

// credentials registers the deploy key or token and returns the source
// secret; the command line always pushes over HTTPS with the API token.
func (h *hostedProvider) credentials(ctx context.Context, ns string, repo bootstrapRepository) (map[string]string, *git.Auth, error) {
	httpURL, err := url.Parse(repo.url)
	if err != nil {
		return nil, nil, fmt.Errorf("clone URL %s: %w", repo.url, err)
	}
	user := h.gitUsername()
	cli := map[string][]byte{git.UsernameKey: []byte(user), git.PasswordKey: []byte(h.token)}
	if h.ca != nil {
		cli[git.CACertKey] = h.ca
	}
	auth, err := git.AuthFromSecret(httpURL, cli)
	if err != nil {
		return nil, nil, fmt.Errorf("git credentials: %w", err)
	}
	var secret map[string]string
	switch {
	case h.b.tokenAuth:
		secret = map[string]string{git.UsernameKey: user, git.PasswordKey: h.token}
	case h.o.deployTokenAuth:
		secret, err = h.deployTokenSecret(ctx, ns)
	default:
		secret, err = h.deployKeySecret(ctx, ns, repo)
	}
	if err != nil {
		return nil, nil, err
	}
	if h.ca != nil && (h.b.tokenAuth || h.o.deployTokenAuth) {
		secret[git.CACertKey] = string(h.ca)
	}
	return secret, auth, nil
}

// gitUsername is who the token logs in as over HTTPS: any name works on
// GitHub, GitLab and Gitea; Bitbucket Server needs the token's user.
func (h *hostedProvider) gitUsername() string {
	if h.kind.command != "bitbucket-server" {
		return "git"
	}
	if h.o.personal {
		return h.o.owner
	}
	return h.o.username
}

// keyName is Flux's name for the deploy key and deploy token: namespace,
// branch, secret name and path joined by dashes.
func (h *hostedProvider) keyName(ns string) string {
	target, _ := cleanTargetPath(h.o.path)
	var parts []string
	for _, v := range []string{ns, h.b.branch, h.b.secretName, target} {
		if v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, "-")
}

func (h *hostedProvider) deployTokenSecret(ctx context.Context, ns string) (map[string]string, error) {
	api, ok := h.api.(deployTokenAPI)
	if !ok {
		return nil, fmt.Errorf("--deploy-token-auth is not supported by %s", h.kind.name)
	}
	existing, err := existingSecret(ctx, h.f, ns, h.b.secretName)
	if err != nil {
		return nil, err
	}
	current := string(existing[git.UsernameKey])
	if len(existing[git.PasswordKey]) == 0 {
		current = ""
	}
	h.p.action("checking to reconcile deploy token for source secret")
	name := h.keyName(ns)
	tok, changed, err := api.ensureDeployToken(ctx, name, current)
	if err != nil {
		return nil, h.apiError(err)
	}
	if !changed {
		h.p.success("reconciled deploy token for source secret")
		return map[string]string{git.UsernameKey: current, git.PasswordKey: string(existing[git.PasswordKey])}, nil
	}
	h.p.success("configured deploy token %q for %q", name, h.o.owner+"/"+h.o.repository)
	h.done = append(h.done, fmt.Sprintf("created deploy token %s", name))
	return map[string]string{git.UsernameKey: tok.username, git.PasswordKey: tok.token}, nil
}

// deployKeySecret picks the SSH key (--private-key-file, the existing
// secret's, or a new one), registers it as deploy key and scans the host
// key of the SSH URL.
func (h *hostedProvider) deployKeySecret(ctx context.Context, ns string, repo bootstrapRepository) (map[string]string, error) {
	var pair *sshKeyPair
	switch {
	case h.b.privateKeyFile != "":
		key, err := os.ReadFile(h.b.privateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("read --private-key-file: %w", err)
		}
		if pair, err = loadKeyPair(key, ""); err != nil {
			return nil, fmt.Errorf("--private-key-file %s: %w", h.b.privateKeyFile, err)
		}
	default:
		existing, err := existingSecret(ctx, h.f, ns, h.b.secretName)
		if err != nil {
			return nil, err
		}
		if id := existing[git.IdentityKey]; len(id) > 0 && len(existing["identity.pub"]) > 0 {
			pair = &sshKeyPair{PrivateKey: id, PublicKey: existing["identity.pub"]}
			break
		}
		h.p.action("generating a deploy key")
		if pair, err = generateKeyPair(h.b.keyAlgorithm, h.b.rsaBits, h.b.ecdsaCurve); err != nil {
			return nil, err
		}
	}
	h.p.success("public key: %s", trimNL(string(pair.PublicKey)))
	key := deployKey{title: h.keyName(ns), publicKey: trimNL(string(pair.PublicKey)), readOnly: !h.o.readWriteKey}
	change, err := h.api.ensureDeployKey(ctx, key)
	if err != nil {
		return nil, h.apiError(err)
	}
	switch {
	case change.kept != "" && change.kept != key.title:
		h.p.success("deploy key already registered as %q", change.kept)
	case change.added && len(change.replaced) > 0:
		h.p.success("configured deploy key %q for %q, replacing %s (a different key)", key.title, h.o.owner+"/"+h.o.repository,
			strings.Join(change.replaced, ", "))
		h.done = append(h.done, fmt.Sprintf("replaced deploy key %s", key.title))
	case change.added:
		h.p.success("configured deploy key %q for %q", key.title, h.o.owner+"/"+h.o.repository)
		h.done = append(h.done, fmt.Sprintf("added deploy key %s", key.title))
	}
	u, err := url.Parse(repo.syncURL)
	if err != nil {
		return nil, err
	}
	knownHosts, err := scanHostKey(ctx, u.Host, h.b.hostKeyAlgos)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		git.IdentityKey:   string(pair.PrivateKey),
		"identity.pub":    string(pair.PublicKey),
		git.KnownHostsKey: knownHosts + "\n",
	}, nil
}

func (h *hostedProvider) warn(format string, a ...any) {
	fmt.Fprintf(h.f.Err, "⚠️ "+format+"\n", a...)
}

func (h *hostedProvider) failure(format string, a ...any) {
	fmt.Fprintf(h.f.Err, "✗ "+format+"\n", a...)
}
