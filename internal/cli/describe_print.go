package cli

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/driftless/driftless/internal/kinds"
)

const none = "<none>"

// describer renders one object the way kubectl describe does: aligned
// "Key: value" sections, then tables for conditions and events.
type describer struct {
	buf bytes.Buffer
	age func(time.Time) string
}

// pair is one "Key: value" line.
type pair struct{ key, value string }

// section writes a title (when not empty) and its pairs, keys aligned.
func (d *describer) section(title string, indent int, pairs ...pair) {
	if title != "" {
		fmt.Fprintf(&d.buf, "%s%s:\n", strings.Repeat(" ", indent), title)
		indent += 2
	}
	width := 0
	for _, p := range pairs {
		width = max(width, len(p.key))
	}
	for _, p := range pairs {
		v := p.value
		if v == "" {
			v = none
		}
		fmt.Fprintf(&d.buf, "%s%-*s  %s\n", strings.Repeat(" ", indent), width+1, p.key+":", v)
	}
}

// table writes a titled table with a dashed line under its header.
func (d *describer) table(title string, header []string, rows [][]string) {
	if len(rows) == 0 {
		fmt.Fprintf(&d.buf, "%s:  %s\n", title, none)
		return
	}
	fmt.Fprintf(&d.buf, "%s:\n", title)
	tw := newTabWriter(&d.buf)
	dashes := make([]string, len(header))
	for i, h := range header {
		dashes[i] = strings.Repeat("-", len(h))
	}
	for _, r := range append([][]string{header, dashes}, rows...) {
		fmt.Fprint(tw, "  ")
		writeRow(tw, r...)
	}
	_ = tw.Flush()
}

// describe writes the sections of a description, then the events.
func (d *describer) describe(sections []kinds.Section, events []corev1.Event) {
	for _, s := range sections {
		d.render(s)
	}
	d.events(events)
}

// render writes one section: its pairs, its table or its list, or
// "Title:  <none>" when it has none.
func (d *describer) render(s kinds.Section) {
	switch {
	case len(s.Pairs) > 0:
		pairs := make([]pair, len(s.Pairs))
		for i, p := range s.Pairs {
			pairs[i] = pair{p.Key, p.Value}
		}
		d.section(s.Title, 0, pairs...)
	case s.Table != nil:
		d.table(s.Title, s.Table.Header, s.Table.Rows)
	case len(s.List) > 0:
		fmt.Fprintf(&d.buf, "%s (%d):\n", s.Title, len(s.List))
		for _, item := range s.List {
			fmt.Fprintf(&d.buf, "  %s\n", item)
		}
	default:
		fmt.Fprintf(&d.buf, "%s:  %s\n", s.Title, none)
	}
}

func (d *describer) events(events []corev1.Event) {
	rows := make([][]string, 0, len(events))
	for _, e := range events {
		age := d.age(eventTime(e))
		if e.Count > 1 {
			first := e.FirstTimestamp.Time
			if first.IsZero() {
				first = e.CreationTimestamp.Time
			}
			age = fmt.Sprintf("%s (x%d over %s)", age, e.Count, d.age(first))
		}
		from := e.Source.Component
		if from == "" {
			from = e.ReportingController
		}
		rows = append(rows, []string{e.Type, e.Reason, age, from, e.Message})
	}
	d.table("Events", []string{"Type", "Reason", "Age", "From", "Message"}, rows)
}
