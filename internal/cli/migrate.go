package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// migrateOptions are the flags of `flux migrate`.
type migrateOptions struct {
	path       string
	extensions []string
	version    string
	yes        bool
	dryRun     bool
}

func newMigrateCommand(f *Factory) *cobra.Command {
	o := &migrateOptions{}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Migrate the Flux custom resources to their latest API version",
		Long: `The migrate command must be run before a Flux minor version upgrade.

It has two modes:

- Cluster mode (default): for every Flux CustomResourceDefinition whose
  status.storedVersions lists versions other than its storage version, every
  object is read and written back unchanged, so that the API server stores it
  at the storage version (their managedFields are moved to that version too),
  then status.storedVersions is set to the storage version alone. The older
  versions can then be dropped from the CRDs. It needs the right to update
  every Flux object and the CRDs' status (cluster-admin).
- File system mode (-f): rewrites the apiVersion of every Flux object (and of
  references such as a Kustomization's sourceRef) in the YAML files under the
  path to the latest version of the target Flux release. Only the apiVersion
  text changes: comments, quotes and layout are kept. A file that is not valid
  YAML stops the run, naming the file, before anything is written.

Both modes list what they would change and ask for confirmation unless --yes;
--dry-run only lists it.`,
		Example: `  # Migrate all the Flux custom resources in the cluster
  flux migrate

  # Migrate the manifests of a Git repository checked out in the current directory
  flux migrate -f .

  # Migrate YAML and Helm template files
  flux migrate -f . --extensions=.yml,.yaml,.tpl

  # Migrate manifests to the latest API versions of Flux 2.8
  flux migrate -f . --version=2.8

  # Show what would change without changing anything
  flux migrate -f . --dry-run

  # Migrate without asking for confirmation
  flux migrate -f . --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if o.path == "" {
				if cmd.Flags().Changed("version") || cmd.Flags().Changed("extensions") {
					return errors.New("--version and --extensions apply to manifests: add -f PATH, " +
						"or drop them to migrate the objects in the cluster")
				}
				return migrateCluster(ctx, f, o)
			}
			return migrateFiles(f, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.path, "path", "f", "", "the path to the directory or file of the manifests to migrate")
	fs.StringSliceVarP(&o.extensions, "extensions", "e", []string{".yaml", ".yml"},
		"the file extensions to consider when migrating manifests, only applicable with --path")
	fs.StringVarP(&o.version, "version", "v", "",
		"the target Flux minor version to migrate manifests to, only applicable with --path (defaults to the latest, 2.9)")
	fs.BoolVarP(&o.yes, "yes", "y", false, "skip the confirmation prompt")
	fs.BoolVar(&o.dryRun, "dry-run", false, "list what would be migrated without changing anything")
	return cmd
}

// migrateFiles is file system mode.
func migrateFiles(f *Factory, o *migrateOptions) error {
	latest, err := targetAPIVersions(o.version)
	if err != nil {
		return err
	}
	for _, ext := range o.extensions {
		if strings.TrimSpace(ext) == "" {
			return errors.New("--extensions has an empty entry: give suffixes such as .yaml,.yml")
		}
	}
	p := progress{f.Err}
	p.action("starting migration of custom resources in %s", o.path)
	m := &manifestMigrator{root: filepath.Clean(o.path), extensions: o.extensions, latest: latest}
	files, err := m.files(f.Err)
	if err != nil {
		return err
	}
	found, err := m.detect(files)
	if err != nil {
		return err
	}
	if len(found) == 0 {
		p.success("no custom resources found that require migration")
		return nil
	}
	rewritten := make([][]byte, len(found))
	for i, fu := range found {
		for _, u := range fu.upgrades {
			fmt.Fprintf(f.Out, "%s:%d: %s %s -> %s\n", fu.path, u.line, u.kind, u.from, u.to)
		}
		data, err := os.ReadFile(fu.path)
		if err != nil {
			return err
		}
		if rewritten[i], err = rewrite(fu.path, data, fu.upgrades); err != nil {
			return err
		}
	}
	if o.dryRun {
		p.success("dry-run: no file was changed")
		return nil
	}
	if err := confirmMigration(f, o.yes, "Migrate the API versions listed above"); err != nil {
		return err
	}
	for i, fu := range found {
		if err := writeAtomically(fu.path, rewritten[i]); err != nil {
			return fmt.Errorf("writing %s: %w", fu.path, err)
		}
		p.success("%s migrated", fu.path)
	}
	p.success("custom resources migrated successfully")
	return nil
}

// confirmMigration asks before a migration writes anything, unless yes.
func confirmMigration(f *Factory, yes bool, question string) error {
	if yes {
		return nil
	}
	ok, err := confirm(f.In, f.Err, question)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("migration cancelled: nothing was changed (pass --yes to skip the prompt)")
	}
	return nil
}
