package cli

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
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
		if g.status.matches(o) {
			objs = append(objs, o)
		}
	}
	out := g.out
	if g.tabular() {
		if err := g.table(out, k, objs, false); err != nil {
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
	w, err := g.client.Watch(ctx, k.NewList(), opts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("watching %s objects: %w", k.Kind, err)
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
				return fmt.Errorf("watching %s objects: %v", k.Kind, ev.Object)
			}
			o, isFlux := ev.Object.(meta.Object)
			if !isFlux || ev.Type == watch.Bookmark || !g.status.matches(o) {
				continue
			}
			if g.tabular() {
				tw := newTabWriter(out)
				writeRow(tw, g.row(k, o, false)...)
				if err := tw.Flush(); err != nil {
					return err
				}
				continue
			}
			if err := g.printOne(o); err != nil {
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
