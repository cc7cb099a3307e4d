package helmvalues

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
)

const secretValue = "s3cr3t-do-not-print"

func cm(name string) meta.ValuesReference {
	return meta.ValuesReference{Kind: KindConfigMap, Name: name}
}
func sec(name string) meta.ValuesReference {
	return meta.ValuesReference{Kind: KindSecret, Name: name}
}

func withKey(r meta.ValuesReference, key string) meta.ValuesReference {
	r.ValuesKey = key
	return r
}

func at(r meta.ValuesReference, key, path string) meta.ValuesReference {
	r.ValuesKey, r.TargetPath = key, path
	return r
}

func optional(r meta.ValuesReference) meta.ValuesReference { r.Optional = true; return r }
func literal(r meta.ValuesReference) meta.ValuesReference  { r.Literal = true; return r }

type m = map[string]any
type l = []any

func TestCompose(t *testing.T) {
	store := map[string]map[string]string{
		"ConfigMap/base": {
			"values.yaml": "replicas: 1\nimage:\n  repository: nginx\n  tag: \"1.0\"\nports: [80, 443]\nlist: [one, two, three]\nkeep: me\n",
			"prod.yaml":   "replicas: 3\nimage:\n  tag: \"2.0\"\nports: [8080]\n",
			"null.yaml":   "keep: null\n",
			"empty.yaml":  "",
			"single":      "value",
			"bool":        "true",
			"quoted":      `"true"`,
			"squoted":     "'007'",
			"number":      "42",
			"list":        "{a,b,c}",
			"escaped":     `value1\,value2`,
			"commas":      "x,other=y",
			"raw":         `a,b={c}\.d=[0]`,
			"empty":       "",
		},
		"Secret/base":     {"values.yaml": "replicas: 5\nfrom: secret\n", "tls.crt": "CERT"},
		"ConfigMap/other": {"values.yaml": "image:\n  pullPolicy: Always\n"},
	}
	tests := []struct {
		name   string
		refs   []meta.ValuesReference
		inline m
		want   m
	}{
		{name: "nothing", want: m{}},
		{name: "inline only", inline: m{"a": m{"b": 1}}, want: m{"a": m{"b": 1}}},
		{
			name: "default key values.yaml",
			refs: []meta.ValuesReference{cm("other")},
			want: m{"image": m{"pullPolicy": "Always"}},
		},
		{
			name: "later entries win, maps merge, lists are replaced",
			refs: []meta.ValuesReference{cm("base"), withKey(cm("base"), "prod.yaml"), cm("other")},
			want: m{
				"replicas": float64(3), "keep": "me", "list": l{"one", "two", "three"}, "ports": l{float64(8080)},
				"image": m{"repository": "nginx", "tag": "2.0", "pullPolicy": "Always"},
			},
		},
		{
			name: "order matters",
			refs: []meta.ValuesReference{withKey(cm("base"), "prod.yaml"), cm("base")},
			want: m{
				"replicas": float64(1), "keep": "me", "list": l{"one", "two", "three"}, "ports": l{float64(80), float64(443)},
				"image": m{"repository": "nginx", "tag": "1.0"},
			},
		},
		{
			name:   "inline values win over valuesFrom",
			refs:   []meta.ValuesReference{cm("base")},
			inline: m{"replicas": 7, "image": m{"tag": "inline"}, "list": l{"x"}},
			want: m{
				"replicas": 7, "keep": "me", "list": l{"x"}, "ports": l{float64(80), float64(443)},
				"image": m{"repository": "nginx", "tag": "inline"},
			},
		},
		{
			name: "a null value replaces",
			refs: []meta.ValuesReference{withKey(cm("other"), "values.yaml"), withKey(cm("base"), "null.yaml")},
			want: m{"image": m{"pullPolicy": "Always"}, "keep": nil},
		},
		{
			name: "an empty document adds nothing",
			refs: []meta.ValuesReference{cm("other"), withKey(cm("base"), "empty.yaml")},
			want: m{"image": m{"pullPolicy": "Always"}},
		},
		{
			name: "Secret and ConfigMap of the same name are two objects",
			refs: []meta.ValuesReference{cm("base"), sec("base")},
			want: m{
				"replicas": float64(5), "from": "secret", "keep": "me", "list": l{"one", "two", "three"},
				"ports": l{float64(80), float64(443)}, "image": m{"repository": "nginx", "tag": "1.0"},
			},
		},
		{
			name: "targetPath sets a nested key",
			refs: []meta.ValuesReference{at(sec("base"), "tls.crt", "merge.at.specific.path")},
			want: m{"merge": m{"at": m{"specific": m{"path": "CERT"}}}},
		},
		{
			name:   "targetPath wins over inline values and later entries",
			refs:   []meta.ValuesReference{at(cm("base"), "single", "list[0]"), cm("base")},
			inline: m{"list": l{"inline", "item", "option"}},
			want: m{
				"replicas": float64(1), "keep": "me", "list": l{"value", "item", "option"}, "ports": l{float64(80), float64(443)},
				"image": m{"repository": "nginx", "tag": "1.0"},
			},
		},
		{
			name: "targetPath sets one list item",
			refs: []meta.ValuesReference{withKey(cm("base"), "prod.yaml"), at(cm("base"), "single", "ports[2]")},
			want: m{"replicas": float64(3), "image": m{"tag": "2.0"}, "ports": l{float64(8080), nil, "value"}},
		},
		{
			name: "targetPath with an escaped dot",
			refs: []meta.ValuesReference{at(cm("base"), "single", `nodeSelector.kubernetes\.io/role`)},
			want: m{"nodeSelector": m{"kubernetes.io/role": "value"}},
		},
		{
			name: "targetPath values are typed as --set types them",
			refs: []meta.ValuesReference{
				at(cm("base"), "bool", "b"), at(cm("base"), "number", "n"), at(cm("base"), "list", "l"),
				at(cm("base"), "escaped", "e"), at(cm("base"), "empty", "z"),
			},
			want: m{"b": true, "n": int64(42), "l": l{"a", "b", "c"}, "e": "value1,value2", "z": ""},
		},
		{
			name: "quoted targetPath values are strings",
			refs: []meta.ValuesReference{at(cm("base"), "quoted", "q"), at(cm("base"), "squoted", "s")},
			want: m{"q": "true", "s": "007"},
		},
		{
			name: "a comma in a targetPath value sets another key, as --set does",
			refs: []meta.ValuesReference{at(cm("base"), "commas", "a")},
			want: m{"a": "x", "other": "y"},
		},
		{
			name: "literal sets the value verbatim",
			refs: []meta.ValuesReference{
				literal(at(cm("base"), "raw", `annotations.prometheus\.io/x`)), literal(at(cm("base"), "bool", "b")),
				literal(at(cm("base"), "empty", "e")), literal(at(cm("base"), "list", "list[1]")),
			},
			inline: m{"list": l{"keep"}},
			want: m{
				"annotations": m{"prometheus.io/x": `a,b={c}\.d=[0]`}, "b": "true", "e": "",
				"list": l{"keep", "{a,b,c}"},
			},
		},
		{
			name: "optional missing object is left out",
			refs: []meta.ValuesReference{optional(cm("missing")), optional(at(sec("missing"), "x", "a.b")), cm("other")},
			want: m{"image": m{"pullPolicy": "Always"}},
		},
		{
			name: "optional missing key is left out",
			refs: []meta.ValuesReference{optional(withKey(cm("other"), "nope.yaml")), optional(at(cm("other"), "nope", "a")), cm("other")},
			want: m{"image": m{"pullPolicy": "Always"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &objects{data: store}
			got, err := Compose(context.Background(), r, "ns", tt.refs, tt.inline)
			if err != nil {
				t.Fatalf("Compose: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Compose:\n got %#v\nwant %#v", got, tt.want)
			}
			for id, n := range r.reads {
				if n != 1 {
					t.Errorf("%s read %d times, want once", id, n)
				}
			}
		})
	}
}

func TestComposeErrors(t *testing.T) {
	store := map[string]map[string]string{
		"Secret/creds": {
			"values.yaml": "a: 1\nb: [" + secretValue + "\n",
			"list.yaml":   "- " + secretValue + "\n",
			"tab.yaml":    "a: 1\n\t" + secretValue + ": x\n",
			"typed.yaml":  "a: !!int " + secretValue + "\n",
			"value":       secretValue,
			"index":       "v,x[" + secretValue + "]=1",
		},
		"ConfigMap/cm": {"values.yaml": "image: nginx\n", "value": "v"},
	}
	readErr := errors.New("secrets \"creds\" is forbidden: User \"system:serviceaccount:ns:sa\" cannot get resource")
	tests := []struct {
		name   string
		refs   []meta.ValuesReference
		fail   map[string]error
		reason error
		want   string
		line   int
	}{
		{
			name:   "missing object",
			refs:   []meta.ValuesReference{cm("cm"), sec("missing")},
			reason: ErrObjectNotFound,
			want:   "valuesFrom[1]: Secret 'ns/missing' not found",
		},
		{
			name:   "missing key",
			refs:   []meta.ValuesReference{withKey(cm("cm"), "prod.yaml")},
			reason: ErrKeyNotFound,
			want:   "valuesFrom[0]: key 'prod.yaml' not found in ConfigMap 'ns/cm'",
		},
		{
			name:   "missing key of a targetPath",
			refs:   []meta.ValuesReference{at(sec("creds"), "nope", "a.b")},
			reason: ErrKeyNotFound,
			want:   "valuesFrom[0]: key 'nope' not found in Secret 'ns/creds'",
		},
		{
			name:   "invalid YAML names the line",
			refs:   []meta.ValuesReference{sec("creds")},
			reason: ErrInvalidYAML,
			want:   "valuesFrom[0]: invalid YAML in key 'values.yaml' of Secret 'ns/creds' at line 2: did not find expected ',' or ']'",
			line:   2,
		},
		{
			name:   "invalid YAML in an optional entry still fails",
			refs:   []meta.ValuesReference{optional(withKey(sec("creds"), "tab.yaml"))},
			reason: ErrInvalidYAML,
			want:   "valuesFrom[0]: invalid YAML in key 'tab.yaml' of Secret 'ns/creds' at line 2",
			line:   2,
		},
		{
			name:   "a YAML type error does not quote the value",
			refs:   []meta.ValuesReference{withKey(sec("creds"), "typed.yaml")},
			reason: ErrInvalidYAML,
			want:   "valuesFrom[0]: invalid YAML in key 'typed.yaml' of Secret 'ns/creds'",
		},
		{
			name:   "a list is not a map of values",
			refs:   []meta.ValuesReference{withKey(sec("creds"), "list.yaml")},
			reason: ErrInvalidYAML,
			want:   "valuesFrom[0]: invalid YAML in key 'list.yaml' of Secret 'ns/creds' at line 1: the document is not a map of values",
			line:   1,
		},
		{
			name:   "unsupported kind",
			refs:   []meta.ValuesReference{{Kind: "Pod", Name: "p"}},
			reason: ErrUnsupportedKind,
			want:   "valuesFrom[0]: unsupported kind 'Pod' for 'ns/p': must be ConfigMap or Secret",
		},
		{
			name:   "a read error is not tolerated by optional",
			refs:   []meta.ValuesReference{optional(sec("creds"))},
			fail:   map[string]error{"Secret/creds": readErr},
			reason: ErrRead,
			want:   "valuesFrom[0]: reading Secret 'ns/creds': " + readErr.Error(),
		},
		{
			name:   "an invalid targetPath",
			refs:   []meta.ValuesReference{at(cm("cm"), "value", "a=b,c")},
			reason: ErrTargetPath,
			want:   "valuesFrom[0]: cannot set targetPath 'a=b,c' from key 'value' of ConfigMap 'ns/cm': must match",
		},
		{
			name:   "a targetPath through a scalar",
			refs:   []meta.ValuesReference{cm("cm"), at(sec("creds"), "value", "image.tag")},
			reason: ErrTargetPath,
			want:   "valuesFrom[1]: cannot set targetPath 'image.tag' from key 'value' of Secret 'ns/creds': the path goes through a value that is not a map or a list",
		},
		{
			name:   "a targetPath value the --set parser refuses",
			refs:   []meta.ValuesReference{at(sec("creds"), "index", "a")},
			reason: ErrTargetPath,
			want:   "valuesFrom[0]: cannot set targetPath 'a' from key 'index' of Secret 'ns/creds': error parsing index",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compose(context.Background(), &objects{data: store, fail: tt.fail}, "ns", tt.refs, nil)
			if err == nil {
				t.Fatal("Compose succeeded, want an error")
			}
			if !errors.Is(err, tt.reason) {
				t.Errorf("error %q is not %v", err, tt.reason)
			}
			var re *ReferenceError
			if !errors.As(err, &re) {
				t.Fatalf("error %q is not a *ReferenceError", err)
			}
			if re.Line != tt.line {
				t.Errorf("line %d, want %d (%s)", re.Line, tt.line, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error\n %q\ndoes not start with\n %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Errorf("error prints the value: %q", err)
			}
			if tt.fail != nil && !errors.Is(err, readErr) {
				t.Errorf("error %q does not wrap the read error", err)
			}
		})
	}
}

func TestComposeDoesNotShareWithInline(t *testing.T) {
	store := map[string]map[string]string{"ConfigMap/cm": {"v": "changed"}}
	inline := m{"list": l{"a", "b"}, "nested": m{"key": "inline"}}
	got, err := Compose(context.Background(), &objects{data: store}, "ns", []meta.ValuesReference{
		at(cm("cm"), "v", "list[0]"), at(cm("cm"), "v", "nested.key"),
	}, inline)
	if err != nil {
		t.Fatal(err)
	}
	if want := (m{"list": l{"a", "b"}, "nested": m{"key": "inline"}}); !reflect.DeepEqual(inline, want) {
		t.Errorf("inline values changed to %v", inline)
	}
	got["nested"].(m)["key"] = "again"
	if inline["nested"].(m)["key"] != "inline" {
		t.Error("the result shares a map with the inline values")
	}
}

func TestComposeRelease(t *testing.T) {
	hr := &helmv2.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "team"},
		Spec: helmv2.HelmReleaseSpec{
			ValuesFrom: []meta.ValuesReference{cm("cm"), at(cm("cm"), "tag", "image.tag")},
			Values:     &apiextensionsv1.JSON{Raw: []byte(`{"image":{"repository":"inline","tag":"inline"},"replicas":2}`)},
		},
	}
	store := map[string]map[string]string{"ConfigMap/cm": {"values.yaml": "image: {pullPolicy: Always}\n", "tag": "v2"}}
	got, err := ComposeRelease(context.Background(), &objects{data: store}, hr)
	if err != nil {
		t.Fatal(err)
	}
	want := m{"image": m{"repository": "inline", "tag": "v2", "pullPolicy": "Always"}, "replicas": float64(2)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}

	hr.Spec.ValuesFrom = []meta.ValuesReference{sec("gone")}
	_, err = ComposeRelease(context.Background(), &objects{data: store}, hr)
	if err == nil || err.Error() != "valuesFrom[0]: Secret 'team/gone' not found" {
		t.Fatalf("error %v, want the missing Secret named in the release's namespace", err)
	}
}

func TestInlineValues(t *testing.T) {
	tests := []struct {
		raw     string
		want    m
		wantErr string
	}{
		{raw: "", want: nil},
		{raw: "null", want: nil},
		{raw: `{"a":{"b":[1,"x"]}}`, want: m{"a": m{"b": l{float64(1), "x"}}}},
		{raw: `[1]`, wantErr: "spec.values must be an object, not an array"},
		{raw: `"s"`, wantErr: "spec.values must be an object, not a string"},
		{raw: `{`, wantErr: "spec.values: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			var j *apiextensionsv1.JSON
			if tt.raw != "" {
				j = &apiextensionsv1.JSON{Raw: []byte(tt.raw)}
			}
			got, err := InlineValues(j)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}
