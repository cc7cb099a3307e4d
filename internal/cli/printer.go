package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/yaml"
)

// Output formats of the read commands, as kubectl's -o.
const (
	outputTable = "table"
	outputWide  = "wide"
	outputYAML  = "yaml"
	outputJSON  = "json"
	outputName  = "name"
)

// printFlags are -o and --no-header.
type printFlags struct {
	output   string
	noHeader bool
}

func (p *printFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&p.output, "output", "o", outputTable, "output format: table, wide, yaml, json or name")
	fs.BoolVar(&p.noHeader, "no-header", false, "print tables without their header line")
}

func (p *printFlags) validate() error {
	switch p.output {
	case outputTable, outputWide, outputYAML, outputJSON, outputName:
		return nil
	}
	return fmt.Errorf("unknown output format %q: use one of table, wide, yaml, json, name", p.output)
}

func (p *printFlags) tabular() bool { return p.output == outputTable || p.output == outputWide }

// newTabWriter aligns columns the way kubectl does.
func newTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
}

// writeRow writes one tab-separated row to a tabwriter.
func writeRow(w io.Writer, cells ...string) {
	for i, c := range cells {
		// A tab or newline in a message would break the table.
		cells[i] = strings.NewReplacer("\t", " ", "\n", "; ").Replace(c)
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// printObjects writes objs as yaml, json or name. A single object that was
// asked for by name prints bare; anything else prints as a v1 List, as
// kubectl does.
func printObjects(w io.Writer, scheme *apiruntime.Scheme, format string, objs []client.Object, single bool) error {
	if format == outputName {
		for _, o := range objs {
			gvk, err := apiutil.GVKForObject(o, scheme)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s.%s/%s\n", strings.ToLower(gvk.Kind), gvk.Group, o.GetName())
		}
		return nil
	}
	items := make([]any, 0, len(objs))
	for _, o := range objs {
		m, err := objectToMap(scheme, o)
		if err != nil {
			return err
		}
		if md, ok := m["metadata"].(map[string]any); ok {
			delete(md, "managedFields")
		}
		items = append(items, m)
	}
	var doc any = map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}, "items": items}
	if single && len(items) == 1 {
		doc = items[0]
	}
	return encodeDoc(w, format, doc)
}

// encode writes doc as YAML, or as JSON indented as kubectl does.
func encodeDoc(w io.Writer, format string, doc any) error {
	if format == outputJSON {
		b, err := json.MarshalIndent(doc, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// objectMap turns a typed object into a map with apiVersion and kind set.
func objectToMap(scheme *apiruntime.Scheme, o client.Object) (map[string]any, error) {
	gvk, err := apiutil.GVKForObject(o, scheme)
	if err != nil {
		return nil, err
	}
	m, err := apiruntime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, err
	}
	m["apiVersion"] = gvk.GroupVersion().String()
	m["kind"] = gvk.Kind
	return m, nil
}
