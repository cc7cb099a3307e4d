package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Plugins are executables named flux-<name> in the plugin directory:
// $FLUXCD_PLUGINS, else ~/.fluxcd/plugins, as in Flux. Each one that does
// not clash with a built-in command becomes `flux <name>`, which runs it
// with the arguments that follow.
const (
	pluginPrefix  = "flux-"
	pluginDirEnv  = "FLUXCD_PLUGINS"
	pluginDirHome = ".fluxcd/plugins"
)

// pluginDir is the plugin directory, "" when there is no home directory.
func pluginDir(f *Factory) string {
	if dir := f.Getenv(pluginDirEnv); dir != "" {
		return dir
	}
	home := f.Getenv("HOME")
	if home == "" && runtime.GOOS == "windows" {
		home = f.Getenv("USERPROFILE")
	}
	if home == "" {
		return ""
	}
	return filepath.Join(home, filepath.FromSlash(pluginDirHome))
}

func pluginFileName(name string) string {
	if runtime.GOOS == "windows" {
		return pluginPrefix + name + ".exe"
	}
	return pluginPrefix + name
}

// installedPlugin is an executable found in the plugin directory.
type installedPlugin struct {
	Name, Path string
}

// discoverPlugins lists the executables flux-<name> of dir, by name.
// Directories, files that are not executable and broken links are skipped.
func discoverPlugins(dir string) []installedPlugin {
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var found []installedPlugin
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), pluginPrefix)
		if !ok {
			continue
		}
		if runtime.GOOS == "windows" {
			name = strings.TrimSuffix(name, ".exe")
		} else if strings.HasSuffix(name, ".yaml") {
			continue // a receipt
		}
		if !pluginNamePattern.MatchString(name) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		info, err := os.Stat(p)
		if err != nil || !info.Mode().IsRegular() || (runtime.GOOS != "windows" && info.Mode().Perm()&0o111 == 0) {
			continue
		}
		found = append(found, installedPlugin{Name: name, Path: p})
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
	return found
}

// pluginAnnotation marks the command that runs a plugin; its value is the
// plugin's path.
const pluginAnnotation = "driftless.dev/plugin"

// addPluginCommands adds `flux <name>` for each plugin whose name is not a
// built-in command (or an alias of one), nor plugin or help.
func addPluginCommands(root *cobra.Command, f *Factory) {
	for _, p := range discoverPlugins(pluginDir(f)) {
		if isBuiltinName(root, p.Name) {
			continue
		}
		root.AddCommand(newPluginExecCommand(f, p))
	}
}

// isBuiltinName reports whether `flux <name>` is a built-in command (plugins
// do not count).
func isBuiltinName(root *cobra.Command, name string) bool {
	if name == "plugin" || name == "help" {
		return true
	}
	for _, c := range root.Commands() {
		if _, plugin := c.Annotations[pluginAnnotation]; plugin {
			continue
		}
		if c.Name() == name || c.HasAlias(name) {
			return true
		}
	}
	return false
}

// newPluginExecCommand runs the plugin with every argument after its name,
// on the command's streams, and exits with its exit code.
func newPluginExecCommand(f *Factory, p installedPlugin) *cobra.Command {
	return &cobra.Command{
		Use:                p.Name,
		Short:              "The plugin " + p.Path,
		DisableFlagParsing: true,
		Annotations:        map[string]string{pluginAnnotation: p.Path},
		RunE: func(cmd *cobra.Command, args []string) error {
			c := exec.CommandContext(cmd.Context(), p.Path, args...)
			c.Stdin, c.Stdout, c.Stderr = f.In, f.Out, f.Err
			err := c.Run()
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				// The plugin said what went wrong; pass its code on.
				return &ExitError{Code: exit.ExitCode()}
			}
			if err != nil {
				return fmt.Errorf("running plugin %s: %w", p.Path, err)
			}
			return nil
		},
	}
}

func newPluginCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugin",
		Short: "Manage Flux CLI plugins",
		Long: "Plugins are executables named flux-<name> in $" + pluginDirEnv + " (default ~/" + pluginDirHome + "); each one becomes\n" +
			"`flux <name>`. install, update and search read Flux's plugin catalogue (cli.fluxcd.io/v1beta1), or the one\n" +
			"at the base URL in $" + pluginCatalogEnv + ".",
	}
	cmd.AddCommand(newPluginListCommand(f), newPluginInstallCommand(f), newPluginUpdateCommand(f),
		newPluginUninstallCommand(f), newPluginSearchCommand(f))
	return cmd
}

func newPluginListCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the installed plugins",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := pluginDir(f)
			plugins := discoverPlugins(dir)
			if len(plugins) == 0 {
				fmt.Fprintf(f.Err, "no plugins installed in %s\n", dir)
				return nil
			}
			tw := newTabWriter(f.Out)
			writeRow(tw, "NAME", "VERSION", "PATH")
			for _, p := range plugins {
				version := "manual"
				if r := readReceipt(dir, p.Name); r != nil {
					version = r.Version
				}
				writeRow(tw, p.Name, version, p.Path)
			}
			return tw.Flush()
		},
	}
}

func newPluginInstallCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "install <name>[@<version>|@<digest>]",
		Short: "Install a plugin from the catalogue",
		Example: `  # Install the latest version
  flux plugin install operator

  # Install a version, or the version whose archive has a digest
  flux plugin install operator@0.45.0
  flux plugin install operator@sha256:06e0a38db4fa6bc9f705a577c7e58dc020bfe2618e45488599e5ef7bb62e3a8a`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, version, err := parsePluginRef(args[0])
			if err != nil {
				return err
			}
			if isBuiltinName(cmd.Root(), name) {
				return fmt.Errorf("a plugin cannot be named %q: `flux %s` is a built-in command", name, name)
			}
			dir := pluginDir(f)
			if dir == "" {
				return fmt.Errorf("no plugin directory: set %s or HOME", pluginDirEnv)
			}
			cat := newCatalogClient(f)
			m, err := cat.manifest(cmd.Context(), name)
			if err != nil {
				return err
			}
			v, p, err := m.resolve(version)
			if err != nil {
				return err
			}
			if err := installPlugin(cmd.Context(), cat.http, dir, m, v, p, time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(f.Out, "✔ installed plugin %s %s as %s\n", name, v.Version, filepath.Join(dir, pluginFileName(name)))
			return nil
		},
	}
}

func newPluginUpdateCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "update [name...]",
		Short: "Update installed plugins to the latest version in the catalogue",
		Long: "Update installs the catalogue's latest version of each plugin named, or of every plugin installed\n" +
			"with flux plugin install when none is named. Plugins installed by hand (without a receipt) are left alone.",
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := pluginDir(f)
			names := args
			if len(names) == 0 {
				for _, p := range discoverPlugins(dir) {
					names = append(names, p.Name)
				}
			}
			cat := newCatalogClient(f)
			var failed []string
			for _, name := range names {
				if _, _, err := parsePluginRef(name); err != nil || strings.Contains(name, "@") {
					return fmt.Errorf("invalid plugin name %q: update takes names only, it installs the latest version", name)
				}
				r := readReceipt(dir, name)
				if r == nil {
					if _, err := os.Stat(filepath.Join(dir, pluginFileName(name))); err != nil {
						return fmt.Errorf("plugin %q is not installed in %s", name, dir)
					}
					fmt.Fprintf(f.Out, "◎ %s: installed by hand, skipped\n", name)
					continue
				}
				m, err := cat.manifest(cmd.Context(), name)
				if err == nil {
					var v *pluginVersion
					var p *pluginPlatform
					if v, p, err = m.resolve(""); err == nil {
						if v.Version == r.Version {
							fmt.Fprintf(f.Out, "◎ %s: %s is the latest version\n", name, r.Version)
							continue
						}
						if err = installPlugin(cmd.Context(), cat.http, dir, m, v, p, time.Now()); err == nil {
							fmt.Fprintf(f.Out, "✔ updated plugin %s from %s to %s\n", name, r.Version, v.Version)
							continue
						}
					}
				}
				fmt.Fprintf(f.Err, "✗ %s: %v\n", name, err)
				failed = append(failed, name)
			}
			if len(failed) > 0 {
				return fmt.Errorf("could not update %s", strings.Join(failed, ", "))
			}
			return nil
		},
	}
}

func newPluginUninstallCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "uninstall <name>",
		Short: "Remove an installed plugin",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, version, err := parsePluginRef(args[0])
			if err != nil {
				return err
			}
			if version != "" {
				return fmt.Errorf("uninstall takes a plugin name without a version: flux plugin uninstall %s", name)
			}
			if err := uninstallPlugin(pluginDir(f), name); err != nil {
				return err
			}
			fmt.Fprintf(f.Out, "✔ uninstalled plugin %s\n", name)
			return nil
		},
	}
}

func newPluginSearchCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "search [query]",
		Short: "Search the plugin catalogue",
		Long:  "Search lists the plugins of the catalogue whose name or description contains the query (all without one).",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := newCatalogClient(f).catalog(cmd.Context())
			if err != nil {
				return err
			}
			query := ""
			if len(args) == 1 {
				query = strings.ToLower(args[0])
			}
			installed := map[string]bool{}
			for _, p := range discoverPlugins(pluginDir(f)) {
				installed[p.Name] = true
			}
			tw := newTabWriter(f.Out)
			writeRow(tw, "NAME", "DESCRIPTION", "INSTALLED")
			matches := 0
			for _, e := range cat.Plugins {
				if query != "" && !strings.Contains(strings.ToLower(e.Name+" "+e.Description), query) {
					continue
				}
				matches++
				writeRow(tw, e.Name, e.Description, titleBool(installed[e.Name]))
			}
			if matches == 0 {
				fmt.Fprintf(f.Err, "no plugin in the catalogue matches %q\n", query)
				return nil
			}
			return tw.Flush()
		},
	}
}
