package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/kinds"
)

// toggleOptions are the flags of suspend and resume.
type toggleOptions struct {
	all  bool
	wait bool
}

func newSuspendCommand(f *Factory) *cobra.Command {
	return newToggleCommand(f, true)
}

func newResumeCommand(f *Factory) *cobra.Command {
	return newToggleCommand(f, false)
}

// newToggleCommand builds `flux suspend` (suspend true) or `flux resume`.
func newToggleCommand(f *Factory, suspend bool) *cobra.Command {
	verb, short := "resume", "Resume suspended resources"
	if suspend {
		verb, short = "suspend", "Suspend the reconciliation of resources"
	}
	o := &toggleOptions{}
	cmd := &cobra.Command{Use: verb, Short: short}
	cmd.PersistentFlags().BoolVar(&o.all, "all", false, verb+" all resources of that kind in the namespace")
	if !suspend {
		cmd.PersistentFlags().BoolVar(&o.wait, "wait", false,
			"wait for the resources to be reconciled (the default when one NAME is given)")
	}
	addKindCommands(cmd, func(group string) *cobra.Command {
		return &cobra.Command{Use: group, Short: strings.Replace(short, "resources", group+"s", 1)}
	}, func(k kinds.Kind) *cobra.Command {
		if k.ReadOnly {
			return nil // no spec.suspend; Flux has no command for them
		}
		return newToggleKindCommand(f, o, k, suspend)
	})
	return cmd
}

func newToggleKindCommand(f *Factory, o *toggleOptions, k kinds.Kind, suspend bool) *cobra.Command {
	verb := "resume"
	if suspend {
		verb = "suspend"
	}
	return &cobra.Command{
		Use:     k.Command.Name + " [NAME...]",
		Aliases: k.Command.Aliases,
		Short:   fmt.Sprintf("%s %s", strings.ToUpper(verb[:1])+verb[1:], withArticle(k.Kind)),
		Example: fmt.Sprintf("  flux %s %s podinfo\n  flux %s %s podinfo redis\n  flux %s %s --all",
			verb, k.Command.Path(), verb, k.Command.Path(), verb, k.Command.Path()),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.all == (len(args) > 0) {
				return fmt.Errorf("give either NAME or --all: flux %s %s NAME", verb, k.Command.Path())
			}
			c, ns, err := clientAndNamespace(f)
			if err != nil {
				return err
			}
			objs, err := selectObjects(cmd.Context(), c, k, ns, args)
			if err != nil {
				return err
			}
			if suspend {
				return suspendAll(cmd.Context(), f, c, k, objs)
			}
			wait := o.wait || (!cmd.Flags().Changed("wait") && !o.all)
			return resumeAll(cmd.Context(), f, c, k, objs, wait)
		},
	}
}

// selectObjects is the named objects, or with no name every object of the
// kind in the namespace. Every name is read before anything is changed: one
// that does not exist fails the command with nothing changed.
func selectObjects(ctx context.Context, c client.Client, k kinds.Kind, ns string, names []string) ([]kinds.Object, error) {
	if len(names) > 0 {
		var objs []kinds.Object
		var errs []error
		seen := map[string]bool{}
		for _, name := range names {
			if seen[name] {
				continue
			}
			seen[name] = true
			obj := k.New()
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
				errs = append(errs, notFoundHint(err, k, name, ns))
				continue
			}
			objs = append(objs, obj)
		}
		if len(errs) > 0 {
			return nil, fmt.Errorf("nothing was changed: %w", errors.Join(errs...))
		}
		return objs, nil
	}
	list := k.NewList()
	if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("list %s in %s: %w", k.Kind, ns, err)
	}
	objs := k.Items(list)
	if len(objs) == 0 {
		return nil, fmt.Errorf("no %s objects found in %s namespace", k.Kind, ns)
	}
	return objs, nil
}

func suspendAll(ctx context.Context, f *Factory, c client.Client, k kinds.Kind, objs []kinds.Object) error {
	p := progress{f.Err}
	for _, obj := range objs {
		p.action("suspending %s %s in %s namespace", k.Command.Path(), obj.GetName(), obj.GetNamespace())
		if err := c.Patch(ctx, obj, client.RawPatch("application/merge-patch+json", k.Patch(kinds.ActionSuspend, ""))); err != nil {
			return fmt.Errorf("suspend %s %s/%s: %w", k.Kind, obj.GetNamespace(), obj.GetName(), err)
		}
		p.success("%s suspended", k.Command.Path())
	}
	return nil
}

// resumeAll clears spec.suspend and asks for a reconciliation in the same
// merge patch, then, with wait, waits for each object as reconcile does.
func resumeAll(ctx context.Context, f *Factory, c client.WithWatch, k kinds.Kind, objs []kinds.Object, wait bool) error {
	p := progress{f.Err}
	tokens := make([]string, len(objs))
	for i, obj := range objs {
		p.action("resuming %s %s in %s namespace", k.Command.Path(), obj.GetName(), obj.GetNamespace())
		tokens[i] = requestToken()
		if err := c.Patch(ctx, obj, client.RawPatch("application/merge-patch+json", k.Patch(kinds.ActionResume, tokens[i]))); err != nil {
			return fmt.Errorf("resume %s %s/%s: %w", k.Kind, obj.GetNamespace(), obj.GetName(), err)
		}
		p.success("%s resumed", k.Command.Path())
	}
	// A static object (a HelmRepository of type oci) is never reconciled.
	var waited []kinds.Object
	var waitedTokens []string
	for i, obj := range objs {
		if !isStatic(k, obj) {
			waited, waitedTokens = append(waited, obj), append(waitedTokens, tokens[i])
		}
	}
	switch {
	case !wait || len(waited) == 0:
		return nil
	case len(objs) == 1:
		return waitReconciled(ctx, f, c, k, client.ObjectKeyFromObject(waited[0]), waitedTokens[0])
	}
	return waitAllReconciled(ctx, f, c, k, waited, waitedTokens)
}

// waitAllReconciled waits for every resumed object within one --timeout,
// reporting each by name; a failure does not stop the wait for the others.
func waitAllReconciled(ctx context.Context, f *Factory, c client.WithWatch, k kinds.Kind, objs []kinds.Object, tokens []string) error {
	p := progress{f.Err}
	wctx, cancel := f.withTimeout(ctx)
	defer cancel()
	var failed []error
	for i, obj := range objs {
		key := client.ObjectKeyFromObject(obj)
		p.waiting("waiting for %s %s reconciliation", k.Kind, key)
		got, err := waitFor(wctx, c, k, key, readyAfter(k, tokens[i]))
		if err != nil {
			fmt.Fprintf(f.Err, "✗ %s %s: %v\n", k.Kind, key, err)
			failed = append(failed, err)
			continue
		}
		p.success("%s %s reconciliation completed", k.Kind, key)
		if line := k.OutcomeOf(got); line != "" {
			p.success("%s", line)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d %s objects did not reconcile: %w", len(failed), len(objs), k.Kind, errors.Join(failed...))
	}
	return nil
}
