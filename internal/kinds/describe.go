package kinds

import (
	"sort"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// Age writes how long ago a time was (5m, 2d3h); describe is given one so
// that its output can be pinned.
type Age func(time.Time) string

// Section is one part of a description: a title and either "Key: value"
// pairs, a table, or a list of items. A section with none of them reads
// "Title:  <none>".
type Section struct {
	Title string
	Pairs []Pair
	Table *Table
	// List is one item a line, the title counting them (Inventory (3):).
	List []string
}

// Pair is one "Key: value" line; an empty value reads <none>.
type Pair struct{ Key, Value string }

// Table is a header and its rows.
type Table struct {
	Header []string
	Rows   [][]string
}

// Describe is the whole description of obj but its events: the metadata
// every kind has, then the kind's sections.
func Describe(k Kind, obj Object, age Age) []Section {
	head := Section{Pairs: []Pair{
		{"Name", obj.GetName()},
		{"Namespace", obj.GetNamespace()},
		{"Kind", k.Kind},
		{"Labels", mapString(obj.GetLabels())},
		{"Annotations", mapString(obj.GetAnnotations())},
		{"Created", age(obj.GetCreationTimestamp().Time) + " ago"},
	}}
	return append([]Section{head}, k.Sections(obj, age)...)
}

// conditions is the Conditions table of obj.
func conditions(obj Object, age Age) Section {
	conds := Conditions(obj)
	rows := make([][]string, 0, len(conds))
	for _, c := range conds {
		rows = append(rows, []string{c.Type, string(c.Status), c.Reason, age(c.LastTransitionTime.Time), c.Message})
	}
	return Section{Title: "Conditions", Table: &Table{Header: []string{"Type", "Status", "Reason", "Age", "Message"}, Rows: rows}}
}

// artifact is the Artifact section of a source.
func artifact(a *meta.Artifact, age Age) Section {
	if a == nil {
		return Section{Title: "Artifact"}
	}
	size := ""
	if a.Size != nil {
		size = strconv.FormatInt(*a.Size, 10) + " bytes"
	}
	pairs := []Pair{
		{"Revision", a.Revision},
		{"Digest", a.Digest},
		{"URL", a.URL},
		{"Size", size},
		{"Last Update", age(a.LastUpdateTime.Time) + " ago"},
	}
	// Upstream metadata (the OCI annotations of a pulled artifact), when
	// the source records any.
	if len(a.Metadata) > 0 {
		pairs = append(pairs, Pair{"Metadata", mapString(a.Metadata)})
	}
	return Section{Title: "Artifact", Pairs: pairs}
}

// mapString writes labels or annotations as k=v, sorted by key.
func mapString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, ", ")
}

// durationString writes an optional duration, "" when unset.
func durationString(d *metav1.Duration) string {
	if d == nil {
		return ""
	}
	return d.Duration.String()
}
