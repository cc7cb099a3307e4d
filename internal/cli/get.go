package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/kinds"
)

// getOptions are the flags every `flux get` command shares.
type getOptions struct {
	printFlags
	allNamespaces  bool
	selector       string
	statusSelector string
	watch          bool
	showSource     bool // --show-source, on kinds that read a source
}

func newGetCommand(f *Factory) *cobra.Command {
	o := &getOptions{}
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Get the status of Flux resources",
		Long: "Get prints the status of Flux resources as a table (NAME, REVISION, SUSPENDED, READY, MESSAGE),\n" +
			"or as wide, yaml, json or name with -o, like kubectl get.",
	}
	fs := cmd.PersistentFlags()
	o.addFlags(fs)
	fs.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list the objects of every namespace")
	fs.StringVarP(&o.selector, "selector", "l", "", "label selector to filter on, as kubectl's -l (app=web,tier!=db)")
	fs.StringVar(&o.selector, "label-selector", "", "the same as --selector (Flux's name for it)")
	fs.StringVar(&o.statusSelector, "status-selector", "", "show only objects whose condition has this status, for example ready=false")
	fs.BoolVarP(&o.watch, "watch", "w", false, "after listing, print every change until interrupted")

	addKindCommands(cmd, func(group string) *cobra.Command {
		return &cobra.Command{Use: group + "s", Aliases: []string{group}, Short: "Get the status of " + group + "s"}
	}, func(k kinds.Kind) *cobra.Command {
		return newGetKindCommand(f, o, k)
	})
	cmd.AddCommand(newGetAllCommand(f, o))
	addGetSourcesAll(cmd, f, o)
	return cmd
}

func newGetKindCommand(f *Factory, o *getOptions, k kinds.Kind) *cobra.Command {
	cmd := &cobra.Command{
		Use:     k.Command.Plural + " [name]",
		Aliases: orName(k, k.Command.Plural),
		Short:   "Get the status of " + k.Command.Nouns,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			g, err := newGetter(f, o, name)
			if err != nil {
				return err
			}
			if o.watch {
				return g.watch(cmd.Context(), k)
			}
			objs, err := g.list(cmd.Context(), k)
			if err != nil {
				return err
			}
			if len(objs) == 0 && name == "" {
				fmt.Fprintf(f.Err, "no %s objects found in %s\n", k.Kind, g.where())
				return nil
			}
			if o.tabular() {
				return g.table(cmd.Context(), f.Out, k, objs, false)
			}
			return printObjects(f.Out, g.client.Scheme(), o.output, objs, name != "")
		},
	}
	addShowSourceFlag(cmd, o, k)
	return cmd
}

func newGetAllCommand(f *Factory, o *getOptions) *cobra.Command {
	var paths, watches []string
	for _, k := range kinds.All() {
		paths = append(paths, k.Command.GetPath())
		watches = append(watches, "flux get "+k.Command.GetPath()+" -w")
	}
	return &cobra.Command{
		Use:   "all",
		Short: "Get the status of every Flux resource: " + strings.Join(paths, ", then "),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.watch {
				return fmt.Errorf("--watch needs one kind: use %s", strings.Join(watches, " or "))
			}
			g, err := newGetter(f, o, "")
			if err != nil {
				return err
			}
			return g.printAll(cmd.Context(), f.Err, kinds.All(), "no Flux objects")
		},
	}
}

// getter runs one `flux get`: where to look and what to keep.
type getter struct {
	*getOptions
	client    client.WithWatch
	out       io.Writer
	namespace string // "" with -A
	name      string
	labels    labels.Selector
	status    *statusSelector
}

func newGetter(f *Factory, o *getOptions, name string) (*getter, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if f.Global.Verbose && o.output == outputTable {
		o.output = outputWide // --verbose: the details -o wide shows
	}
	if name != "" && o.allNamespaces {
		return nil, fmt.Errorf("an object cannot be retrieved by name across all namespaces: drop -A or the name")
	}
	sel, err := labels.Parse(o.selector)
	if err != nil {
		return nil, fmt.Errorf("invalid --selector %q: %w", o.selector, err)
	}
	status, err := parseStatusSelector(o.statusSelector)
	if err != nil {
		return nil, err
	}
	c, err := f.Client()
	if err != nil {
		return nil, err
	}
	g := &getter{getOptions: o, client: c, out: f.Out, name: name, labels: sel, status: status}
	if !o.allNamespaces {
		if g.namespace, err = f.Namespace(); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (g *getter) where() string {
	if g.namespace == "" {
		return "any namespace"
	}
	return strconv.Quote(g.namespace) + " namespace"
}

func (g *getter) listOptions() []client.ListOption {
	opts := []client.ListOption{client.MatchingLabelsSelector{Selector: g.labels}}
	if g.namespace != "" {
		opts = append(opts, client.InNamespace(g.namespace))
	}
	if g.name != "" {
		opts = append(opts, client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", g.name)})
	}
	return opts
}

// list returns the objects of kind k that pass every filter. A named object
// that does not exist is an error that says so, as kubectl's.
func (g *getter) list(ctx context.Context, k kinds.Kind) ([]client.Object, error) {
	var found []kinds.Object
	if g.name != "" {
		obj := k.New()
		if err := g.client.Get(ctx, client.ObjectKey{Namespace: g.namespace, Name: g.name}, obj); err != nil {
			return nil, notFoundError(err, k.Kind, g.name, g.namespace)
		}
		if g.labels.Matches(labels.Set(obj.GetLabels())) {
			found = append(found, obj)
		}
	} else {
		list := k.NewList()
		if err := g.client.List(ctx, list, g.listOptions()...); err != nil {
			return nil, fmt.Errorf("listing %s objects: %w", k.Kind, err)
		}
		found = k.Items(list)
	}
	var out []client.Object
	for _, o := range found {
		if g.status.matches(o, g.ready(ctx, k, o)) {
			out = append(out, o)
		}
	}
	return out, nil
}

// notFound words a NotFound error as kubectl does and passes others on.
func notFoundError(err error, kind, name, namespace string) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s %q not found in namespace %q", kind, name, namespace)
	}
	return fmt.Errorf("getting %s %s/%s: %w", kind, namespace, name, err)
}

// header is the table's first line for kind k.
func (g *getter) header(k kinds.Kind) []string {
	h := []string{"NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"}
	if k.RevisionColumn != nil {
		h[1] = k.RevisionColumn.Header // LAST SCAN of an ImageRepository, as Flux's table
	} else if k.Revision == nil {
		// Alerts, Providers, Receivers have none; Flux's tables leave the column out.
		h = slices.Delete(h, 1, 2)
	}
	if g.showSource {
		h = slices.Insert(h, 1, "SOURCE")
	}
	if g.namespace == "" {
		h = append([]string{"NAMESPACE"}, h...)
	}
	if g.output == outputWide {
		for _, c := range k.Wide {
			if !(g.showSource && c.Header == "SOURCE") { // shown once, after NAME
				h = append(h, c.Header)
			}
		}
	}
	return h
}

// ready is the Ready condition of o (see readyCondition).
func (g *getter) ready(ctx context.Context, k kinds.Kind, o kinds.Object) *metav1.Condition {
	return readyCondition(ctx, g.client, k, o)
}

// row is one object's table line; prefixed names read kind/name (get all).
func (g *getter) row(ctx context.Context, k kinds.Kind, fo kinds.Object, prefixed bool) []string {
	name := fo.GetName()
	if prefixed {
		name = strings.ToLower(k.Kind) + "/" + name
	}
	ready, msg := readyColumns(g.ready(ctx, k, fo))
	r := []string{name, k.RevisionOf(fo), titleBool(k.IsSuspended(fo)), ready, msg}
	if k.RevisionColumn != nil {
		r[1] = k.RevisionColumn.Value(fo)
	} else if k.Revision == nil {
		r = slices.Delete(r, 1, 2)
	}
	if g.showSource {
		r = slices.Insert(r, 1, sourceColumn(k, fo))
	}
	if g.namespace == "" {
		r = append([]string{fo.GetNamespace()}, r...)
	}
	if g.output == outputWide {
		for _, c := range k.Wide {
			if !(g.showSource && c.Header == "SOURCE") {
				r = append(r, c.Value(fo))
			}
		}
	}
	return r
}

func (g *getter) table(ctx context.Context, w io.Writer, k kinds.Kind, objs []client.Object, prefixed bool) error {
	tw := newTabWriter(w)
	if !g.noHeader {
		writeRow(tw, g.header(k)...)
	}
	for _, o := range objs {
		writeRow(tw, g.row(ctx, k, o, prefixed)...)
	}
	return tw.Flush()
}

// titleBool is True or False, as Flux's tables write booleans.
func titleBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
