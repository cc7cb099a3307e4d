package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/kinds"
)

// newDeleteCommand builds `flux delete`. Like Flux, it takes -s for --silent.
func newDeleteCommand(f *Factory) *cobra.Command {
	var silent bool
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete sources and resources",
	}
	cmd.PersistentFlags().BoolVarP(&silent, "silent", "s", false, "delete resource without asking for confirmation")
	addKindCommands(cmd, func(group string) *cobra.Command {
		return &cobra.Command{Use: group, Short: "Delete " + group + "s"}
	}, func(k kinds.Kind) *cobra.Command {
		if k.ReadOnly {
			return nil // ExternalArtifact, ArtifactGenerator: Flux has no delete command for them
		}
		return newDeleteKindCommand(f, &silent, k)
	})
	return cmd
}

func newDeleteKindCommand(f *Factory, silent *bool, k kinds.Kind) *cobra.Command {
	return &cobra.Command{
		Use:     k.Command.Name + " NAME",
		Aliases: k.Command.Aliases,
		Short:   "Delete " + withArticle(k.Kind),
		Example: fmt.Sprintf("  flux delete %s podinfo\n\n  # Without asking for confirmation\n  flux delete %s podinfo --silent", k.Command.Path(), k.Command.Path()),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := checkName(args, "delete "+k.Command.Path())
			if err != nil {
				return err
			}
			return deleteNamed(cmd.Context(), f, k, name, *silent)
		},
	}
}

// deleteNamed asks for confirmation unless silent, deletes the object and
// waits, bounded by --timeout, until it is gone (its finalizer has run).
func deleteNamed(ctx context.Context, f *Factory, k kinds.Kind, name string, silent bool) error {
	c, ns, err := clientAndNamespace(f)
	if err != nil {
		return err
	}
	key := client.ObjectKey{Namespace: ns, Name: name}
	obj := k.New()
	if err := c.Get(ctx, key, obj); err != nil {
		return notFoundHint(err, k, name, ns)
	}
	if !silent {
		ok, err := confirm(f.In, f.Err, fmt.Sprintf("Are you sure you want to delete this %s", k.Command.Path()))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("aborting: %s %s not deleted", k.Kind, key)
		}
	}
	p := progress{f.Err}
	p.action("deleting %s %s in %s namespace", k.Command.Path(), name, ns)
	if err := c.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s %s: %w", k.Kind, key, err)
	}
	wctx, cancel := f.withTimeout(ctx)
	defer cancel()
	if err := waitGone(wctx, c, k, key); err != nil {
		return err
	}
	p.success("%s deleted", k.Command.Path())
	return nil
}

// confirm asks question on w and reads a yes or no from r; anything but
// y or yes is no.
func confirm(r io.Reader, w io.Writer, question string) (bool, error) {
	fmt.Fprintf(w, "%s? [y/N] ", question)
	if r == nil {
		return false, fmt.Errorf("no answer to read: use --silent to delete without confirmation")
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read the answer: %w", err)
	}
	fmt.Fprintln(w)
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
