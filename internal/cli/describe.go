package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web/eventsource"
)

// describeOptions holds what describe needs besides the Factory: how to
// write an age, so tests can pin it.
type describeOptions struct {
	age func(time.Time) string
}

func newDescribeCommand(f *Factory) *cobra.Command {
	return newDescribeCommandWith(f, describeOptions{age: ageSince(time.Now)})
}

// ageSince writes ages as kubectl does (5m, 2d3h), measured from now().
func ageSince(now func() time.Time) func(time.Time) string {
	return func(t time.Time) string {
		if t.IsZero() {
			return "<unknown>"
		}
		return duration.HumanDuration(now().Sub(t))
	}
}

func newDescribeCommandWith(f *Factory, o describeOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe",
		Short: "Show one Flux resource in detail: spec, conditions, inventory or artifact, and events",
	}
	addKindCommands(cmd, func(group string) *cobra.Command {
		return &cobra.Command{Use: group, Short: "Describe a " + group}
	}, func(k kinds.Kind) *cobra.Command {
		return newDescribeKindCommand(f, o, k)
	})
	return cmd
}

func newDescribeKindCommand(f *Factory, o describeOptions, k kinds.Kind) *cobra.Command {
	return &cobra.Command{
		Use:     k.Command.Name + " NAME",
		Aliases: orName(k, k.Command.Name),
		Short:   "Describe " + withArticle(k.Kind),
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("give the name of one %s to describe (flux get lists them)", k.Kind)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ns, err := clientAndNamespace(f)
			if err != nil {
				return err
			}
			obj := k.New()
			if err := c.Get(cmd.Context(), client.ObjectKey{Namespace: ns, Name: args[0]}, obj); err != nil {
				return notFoundError(err, k.Kind, args[0], ns)
			}
			events, err := eventsFor(cmd.Context(), c, k.Kind, obj)
			if err != nil {
				return err
			}
			sections := kinds.Describe(k, obj, o.age)
			if k.Derive != nil {
				sections = append(sections, derivedReadiness(readyCondition(cmd.Context(), c, k, obj)))
			}
			d := &describer{age: o.age}
			d.describe(sections, events)
			_, err = f.Out.Write(d.buf.Bytes())
			return err
		},
	}
}

// derivedReadiness is the section of a static kind's Ready (an Alert, a
// Provider): derived from what it refers to, since no controller writes a
// status for it.
func derivedReadiness(ready *metav1.Condition) kinds.Section {
	return kinds.Section{Title: "Readiness (derived: no controller writes its status)", Pairs: []kinds.Pair{
		{Key: "Ready", Value: string(ready.Status)},
		{Key: "Reason", Value: ready.Reason},
		{Key: "Message", Value: ready.Message},
	}}
}

// eventsFor lists the core/v1 Events about obj, oldest first.
func eventsFor(ctx context.Context, c client.Client, kind string, obj client.Object) ([]corev1.Event, error) {
	list := &corev1.EventList{}
	sel := fields.SelectorFromSet(fields.Set{
		"involvedObject.kind": kind,
		"involvedObject.name": obj.GetName(),
	})
	if err := c.List(ctx, list, client.InNamespace(obj.GetNamespace()), client.MatchingFieldsSelector{Selector: sel}); err != nil {
		return nil, fmt.Errorf("listing the events of %s %s/%s: %w", kind, obj.GetNamespace(), obj.GetName(), err)
	}
	sortEvents(list.Items)
	return list.Items, nil
}

// eventTime is when an event last happened, whichever field its writer
// set; the web UI's object page orders its events by the same.
var eventTime = eventsource.Time
