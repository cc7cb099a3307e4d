package cli

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/kinds"
)

// watch prints the current objects of kind k, then one line (or document)
// per change until the context ends, as kubectl get -w. The end of the
// context is a normal way out, not an error.
func (g *getter) watch(ctx context.Context, k kinds.Kind) error {
	list := k.NewList()
	if err := g.client.List(ctx, list, g.listOptions()...); err != nil {
		return fmt.Errorf("listing %s objects: %w", k.Kind, err)
	}
	rv := list.GetResourceVersion()
	var objs []client.Object
	for _, o := range k.Items(list) {
		if g.status.matches(o, g.ready(ctx, k, o)) {
			objs = append(objs, o)
		}
	}
	out := g.out
	if g.tabular() {
		if err := g.table(ctx, out, k, objs, false); err != nil {
			return err
		}
	} else {
		for _, o := range objs {
			if err := g.printOne(o); err != nil {
				return err
			}
		}
	}
	opts := append(g.listOptions(), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: false}})
	return followWatch(ctx, g.client, k.NewList(), k.Kind+" objects", func(ev watch.Event) error {
		o, isFlux := ev.Object.(kinds.Object)
		if !isFlux || ev.Type == watch.Bookmark || !g.status.matches(o, g.ready(ctx, k, o)) {
			return nil
		}
		if g.tabular() {
			tw := newTabWriter(out)
			writeRow(tw, g.row(ctx, k, o, false)...)
			return tw.Flush()
		}
		return g.printOne(o)
	}, opts...)
}

// followWatch watches list with opts and hands each event to each until ctx
// ends, which is not an error; what names the watched objects in errors
// ("events", "GitRepository objects").
func followWatch(ctx context.Context, c client.WithWatch, list client.ObjectList, what string,
	each func(watch.Event) error, opts ...client.ListOption) error {
	w, err := c.Watch(ctx, list, opts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("watching %s: %w", what, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errors.New("the API server closed the watch: run the command again")
			}
			if ev.Type == watch.Error {
				return fmt.Errorf("watching %s: %v", what, ev.Object)
			}
			if err := each(ev); err != nil {
				return err
			}
		}
	}
}

// printOne writes one object as its own document (---) or name line.
func (g *getter) printOne(o client.Object) error {
	if g.output == outputYAML {
		fmt.Fprintln(g.out, "---")
	}
	return printObjects(g.out, g.client.Scheme(), g.output, []client.Object{o}, true)
}
