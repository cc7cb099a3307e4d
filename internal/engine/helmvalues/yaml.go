package helmvalues

import (
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/chart/common"
)

// yamlError is what is wrong with a values document: the line (0 when no
// parser can tell) and the problem, without any of the content.
type yamlError struct {
	line   int
	detail string
}

// readValues parses a values document as Helm (and Flux) do: the first YAML
// document, which must be a map or empty. The error says where and what,
// never quoting the document.
func readValues(data []byte) (map[string]any, *yamlError) {
	v, err := common.ReadValues(data)
	if err == nil {
		return v, nil
	}
	msg := err.Error()
	if strings.Contains(msg, "error unmarshaling JSON") {
		return nil, &yamlError{line: rootLine(data), detail: "the document is not a map of values"}
	}
	msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := lineOf(msg)
	if line == 0 {
		line = lineOfV3(data)
	}
	msg = lineNum.ReplaceAllString(msg, "")
	msg = strings.TrimLeft(msg, ": ")
	return nil, &yamlError{line: line, detail: redact(msg)}
}

// lineOf returns the first "line N" of a parser's message, 0 when none.
func lineOf(msg string) int {
	m := lineNum.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0
	}
	return n
}

// lineOfV3 asks the YAML v3 parser, which reports a line for more errors
// than the v2 parser Helm uses, where the document breaks.
func lineOfV3(data []byte) int {
	var n yamlv3.Node
	if err := yamlv3.Unmarshal(data, &n); err != nil {
		return lineOf(err.Error())
	}
	return 0
}

// rootLine returns the line of the first document's top node.
func rootLine(data []byte) int {
	var n yamlv3.Node
	if err := yamlv3.Unmarshal(data, &n); err != nil || len(n.Content) == 0 {
		return 0
	}
	return n.Content[0].Line
}
