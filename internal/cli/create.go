package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/driftless/driftless/internal/kinds"
)

// fieldOwner is the server-side apply field manager of objects the CLI
// creates.
const fieldOwner = "flux"

// createOptions are the flags every `flux create` subcommand shares.
type createOptions struct {
	interval time.Duration
	export   bool
	labels   []string
}

// reconciled returns the metadata and interval of a reconciled object a
// create command writes: its name, namespace and --label labels, and
// --interval, which must be positive.
func (c *createOptions) reconciled(name, ns string) (metav1.ObjectMeta, metav1.Duration, error) {
	labels, err := parseLabels(c.labels)
	if err != nil {
		return metav1.ObjectMeta{}, metav1.Duration{}, err
	}
	if c.interval <= 0 {
		return metav1.ObjectMeta{}, metav1.Duration{}, fmt.Errorf("--interval must be positive, got %s", c.interval)
	}
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, metav1.Duration{Duration: c.interval}, nil
}

func newCreateCommand(f *Factory) *cobra.Command {
	opts := &createOptions{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create or update sources and resources",
	}
	cmd.PersistentFlags().DurationVar(&opts.interval, "interval", time.Minute, "source sync interval")
	cmd.PersistentFlags().BoolVar(&opts.export, "export", false, "export in YAML format to stdout")
	cmd.PersistentFlags().StringSliceVar(&opts.labels, "label", nil,
		"set labels on the resource (can specify multiple labels with commas: label1=value1,label2=value2)")
	source := &cobra.Command{Use: "source", Short: "Create or update sources"}
	source.AddCommand(newCreateSourceGitCommand(f, opts), newCreateSourceOCICommand(f, opts), newCreateSourceBucketCommand(f, opts))
	source.AddCommand(newCreateSourceHelmCommand(f, opts), newCreateSourceChartCommand(f, opts))
	cmd.AddCommand(source, newCreateKustomizationCommand(f, opts), newCreateHelmReleaseCommand(f, opts))
	cmd.AddCommand(newCreateSecretCommand(f, opts), newCreateTenantCommand(f, opts))
	cmd.AddCommand(newCreateProviderCommand(f, opts), newCreateAlertCommand(f, opts), newCreateReceiverCommand(f, opts))
	cmd.AddCommand(newCreateImageCommand(f, opts))
	return cmd
}

// parseLabels turns k=v pairs into a map, rejecting malformed ones.
func parseLabels(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	labels := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid label %q: write it as key=value", p)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("invalid label key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("invalid label value %q: %s", v, strings.Join(errs, "; "))
		}
		labels[k] = v
	}
	return labels, nil
}

// checkName rejects a NAME that the API server would reject.
func checkName(args []string, what string) (string, error) {
	if len(args) != 1 || args[0] == "" {
		return "", fmt.Errorf("%s name is required: flux %s NAME", what, what)
	}
	if errs := validation.IsDNS1123Subdomain(args[0]); len(errs) > 0 {
		return "", fmt.Errorf("invalid name %q: %s", args[0], strings.Join(errs, "; "))
	}
	return args[0], nil
}

// manifest is obj as a user would write it: apiVersion, kind, metadata
// (name, namespace, labels) and spec, without status or server fields.
func manifest(obj kinds.Object) (map[string]any, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	md := map[string]any{"name": obj.GetName(), "namespace": obj.GetNamespace()}
	if l := obj.GetLabels(); len(l) > 0 {
		md["labels"] = l
	}
	m["metadata"] = md
	return m, nil
}

// exportYAML prints obj as Flux's --export does: a YAML document
// starting with ---.
func exportYAML(w io.Writer, obj kinds.Object) error {
	m, err := manifest(obj)
	if err != nil {
		return err
	}
	data, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "---\n%s", data)
	return err
}

// newCreateKindCommand completes cmd (its help and flags) into `flux create
// <kind> NAME`: build turns the name, the namespace and the flags into the
// object, which --export prints and otherwise is applied and waited for.
func newCreateKindCommand(f *Factory, common *createOptions, k kinds.Kind, cmd *cobra.Command,
	build func(name, ns string) (kinds.Object, error)) *cobra.Command {
	return newCreateKindCommandThen(f, common, k, cmd, build, nil)
}

// newCreateKindCommandThen is newCreateKindCommand with then, when not
// nil, called with the object once it is applied and ready (a Receiver's
// webhook path is printed so).
func newCreateKindCommandThen(f *Factory, common *createOptions, k kinds.Kind, cmd *cobra.Command,
	build func(name, ns string) (kinds.Object, error), then func(got kinds.Object)) *cobra.Command {
	cmd.Use = k.Command.Name + " NAME"
	cmd.Aliases = k.Command.Aliases
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name, err := checkName(args, "create "+k.Command.Path())
		if err != nil {
			return err
		}
		ns, err := f.Namespace()
		if err != nil {
			return err
		}
		obj, err := build(name, ns)
		if err != nil {
			return err
		}
		if common.export {
			return exportYAML(f.Out, obj)
		}
		progress{f.Err}.action("generating %s", k.Command.Noun)
		got, err := applyAndWait(cmd.Context(), f, k, obj)
		if err == nil && then != nil {
			then(got)
		}
		return err
	}
	return cmd
}

// applyAndWait applies obj with server-side apply, then waits, bounded by
// --timeout, until it is Ready, printing progress as Flux does.
func applyAndWait(ctx context.Context, f *Factory, k kinds.Kind, obj kinds.Object) (kinds.Object, error) {
	c, err := f.Client()
	if err != nil {
		return nil, err
	}
	p := progress{f.Err}
	p.action("applying %s", k.Kind)
	key := client.ObjectKeyFromObject(obj)
	verb := "updated"
	if err := c.Get(ctx, key, k.New()); apierrors.IsNotFound(err) {
		verb = "created"
	} else if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", k.Kind, key, err)
	}
	m, err := manifest(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	if err := c.Patch(ctx, u, client.Apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		return nil, fmt.Errorf("apply %s %s: %w", k.Kind, key, err)
	}
	p.success("%s %s", k.Kind, verb)
	if k.Derive != nil {
		// An Alert or a Provider: no controller writes its status, so its
		// readiness is derived now from what it refers to.
		ready := k.Derive(ctx, func(ctx context.Context, key types.NamespacedName, o kinds.Object) error {
			return c.Get(ctx, key, o)
		}, obj)
		if ready.Status == metav1.ConditionTrue {
			p.success("%s %s is ready", k.Kind, key.Name)
		} else {
			fmt.Fprintf(f.Err, "⚠️ %s %s is not ready: %s\n", k.Kind, key.Name, ready.Message)
		}
		return obj, nil
	}
	if isStatic(k, obj) {
		// No controller writes its status, so there is nothing to wait for.
		p.success("%s %s is a static object: ready to be used", k.Kind, key.Name)
		return obj, nil
	}
	p.waiting("waiting for %s reconciliation", k.Kind)
	wctx, cancel := f.withTimeout(ctx)
	defer cancel()
	got, err := waitFor(wctx, c, k, key, readyAfter(k, ""))
	if err != nil {
		return got, err
	}
	p.success("%s %s is ready", k.Kind, key.Name)
	if line := k.OutcomeOf(got); line != "" {
		p.success("%s", line)
	}
	return got, nil
}

// progress prints Flux's progress lines on stderr.
type progress struct{ w io.Writer }

func (p progress) action(format string, a ...any)  { fmt.Fprintf(p.w, "► "+format+"\n", a...) }
func (p progress) success(format string, a ...any) { fmt.Fprintf(p.w, "✔ "+format+"\n", a...) }
func (p progress) waiting(format string, a ...any) { fmt.Fprintf(p.w, "◎ "+format+"\n", a...) }
