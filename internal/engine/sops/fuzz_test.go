package sops

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Fuzz modes: below sealMode, the input is a document of Format(mode %
// formats); from sealMode on, it is a plaintext YAML document that the target
// encrypts itself (as anyone holding the public age key can), so that what
// follows decryption (the MAC check, the emitters) sees arbitrary content too.
const (
	formats  = 5
	sealMode = 128
)

// FuzzDecrypt feeds arbitrary documents to DecryptData, in every format, and
// to DecryptObject when they are JSON objects, decrypting with the test age
// keys. It checks that nothing panics and that output is bounded:
//
//   - DecryptData returns at most maxOutputSize(len(input)) bytes
//     (8*len(input) + 1 MiB): every emitter writes into a buffer bounded by
//     that (INI checks an upper bound of its size first), so this holds by
//     construction, whatever the layout.
//   - A decrypted object, marshalled as JSON, takes at most the same: a value
//     left as it is re-marshals to at most 6 times its input form (one byte
//     such as '<' becomes \u003c; 1e20 becomes 21 digits from 4 bytes), and a
//     decrypted value is shorter than its base64 ciphertext (3/4 of it), so it
//     takes at most 4.5 times that; both are below the factor of 8.
//   - The object can be deep-copied: every value is a JSON type.
//
// Time and memory are bounded by the input too: YAML aliases by value count
// and bytes, nesting by the decoders' depth limits, rule matching by one
// match per key and comment with a pattern of at most 1 KiB, output as above.
func FuzzDecrypt(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s.data, s.mode)
	}
	keys, err := KeysFromSecret(map[string][]byte{
		"age.agekey":    mustRead(f, "keys", "age.agekey"),
		"age-b.agekey":  mustRead(f, "keys", "age-b.agekey"),
		"age-pq.agekey": mustRead(f, "keys", "age-pq.agekey"),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		if mode >= sealMode {
			fuzzSealed(t, keys, data, mode&1 == 1)
			return
		}
		format := Format(mode % formats)
		out, changed, err := keys.DecryptData("fuzz", data, format)
		checkOutput(t, data, out, changed, err)
		fuzzObject(t, keys, data)
	})
}

// checkOutput checks what DecryptData returned for data.
func checkOutput(t *testing.T, data, out []byte, changed bool, err error) {
	t.Helper()
	switch {
	case err != nil:
		if out != nil || changed {
			t.Fatalf("an error (%v) with output", err)
		}
	case !changed:
		if !bytes.Equal(out, data) {
			t.Fatal("unchanged, but the output differs from the input")
		}
	case len(out) > maxOutputSize(len(data)):
		t.Fatalf("%d bytes out of %d in, more than %d", len(out), len(data), maxOutputSize(len(data)))
	}
}

// fuzzObject decrypts data as an object if it is a JSON object.
func fuzzObject(t *testing.T, keys *Keys, data []byte) {
	var m map[string]any
	if json.Unmarshal(data, &m) != nil || m == nil {
		return
	}
	obj := &unstructured.Unstructured{Object: m}
	if err := keys.DecryptObject(obj); err != nil {
		return
	}
	copied := obj.DeepCopy() // panics on a value that is not a JSON type
	out, err := json.Marshal(copied.Object)
	if err != nil {
		t.Fatalf("a decrypted object does not marshal: %v", err)
	}
	if len(out) > maxOutputSize(len(data)) {
		t.Fatalf("%d bytes of object out of %d in", len(out), len(data))
	}
}

// fuzzSealed encrypts the plaintext YAML data itself, then decrypts it.
func fuzzSealed(t *testing.T, keys *Keys, data []byte, yamlSyntax bool) {
	if len(data) > 64<<10 {
		return // encryption grows every value by about a hundred bytes
	}
	docs, err := loadYAML(data)
	if err != nil || len(docs) == 0 {
		return
	}
	for _, e := range docs[0] {
		if e.comment == nil && e.key == "sops" {
			return // would be read as the metadata
		}
	}
	doc, err := seal(t, docs[0], yamlSyntax)
	if err != nil {
		return // a value sops cannot encrypt
	}
	format := JSON
	if yamlSyntax {
		format = YAML
	}
	out, changed, err := keys.DecryptData("sealed", doc, format)
	checkOutput(t, doc, out, changed, err)
	// Some plaintexts cannot be written back (NaN in JSON), but a document
	// encrypted as sops does must authenticate.
	if errors.Is(err, ErrIntegrity) {
		t.Fatalf("a sealed document does not authenticate: %v\n%s", err, doc)
	}
}

type fuzzSeed struct {
	data []byte
	mode uint8
}

// fuzzSeeds are the fixtures real sops wrote, variants that each check of
// the decrypter refuses, and plaintexts to seal.
func fuzzSeeds(f testing.TB) []fuzzSeed {
	var seeds []fuzzSeed
	entries, err := os.ReadDir(filepath.Join("testdata", "encrypted"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data := mustRead(f, "encrypted", e.Name())
		mode := uint8(FormatForName(e.Name()))
		seeds = append(seeds, fuzzSeed{data, mode})
		// Mutated variants: a value made plain, a ciphertext changed, a
		// comment put in a value's place, the stanza cut short.
		text := string(data)
		if i := strings.Index(text, "ENC[AES256_GCM,data:"); i >= 0 {
			j := i + strings.Index(text[i:], "]") + 1
			seeds = append(seeds,
				fuzzSeed{[]byte(text[:i] + "plain" + text[j:]), mode},
				fuzzSeed{[]byte(text[:i+20] + "A" + text[i+21:]), mode})
		}
		if strings.Contains(text, ",type:comment]") {
			seeds = append(seeds, fuzzSeed{[]byte(strings.Replace(text, ",type:str]", ",type:comment]", 1)), mode})
		}
		seeds = append(seeds, fuzzSeed{data[:len(data)*2/3], mode})
		if mode == uint8(YAML) {
			// The first document as a JSON object, for DecryptObject.
			if j, err := yaml.YAMLToJSON(firstDocument(data)); err == nil {
				seeds = append(seeds, fuzzSeed{j, uint8(JSON)})
			}
		}
	}
	seeds = append(seeds,
		fuzzSeed{[]byte(aliasBomb()), uint8(YAML)},
		fuzzSeed{[]byte(`{"sops": {"mac": "ENC[AES256_GCM,x]"}, "a": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}"), uint8(JSON)},
		fuzzSeed{[]byte("a: &a [x, *a]\nsops:\n    mac: ENC[AES256_GCM,data:x]\n"), uint8(YAML)},
	)
	plains, err := os.ReadDir(filepath.Join("testdata", "plain"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range plains {
		if FormatForName(e.Name()) == YAML {
			data := mustRead(f, "plain", e.Name())
			seeds = append(seeds, fuzzSeed{data, sealMode}, fuzzSeed{data, sealMode + 1})
		}
	}
	seeds = append(seeds,
		fuzzSeed{[]byte("l: [&a x, *a, *a]\nm: {k: [1, 1.5, true, null, \"\", \"<>&\\u0001\"]}\n"), sealMode},
		fuzzSeed{[]byte(strings.Repeat("{a: ", 200) + "x" + strings.Repeat("}", 200)), sealMode + 1})
	return seeds
}

func mustRead(tb testing.TB, parts ...string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, parts...)...))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
