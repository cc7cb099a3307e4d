package imageupdateautomation

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// maxListLen bounds the lists until and untilStep make, and maxIndent the
// indentation indent and nindent add: a template is a tenant's input, and
// `{{ repeat 1000000000 "x" }}` must not take the controller's memory.
const (
	maxListLen = 10000
	maxIndent  = 256
)

// costly are Sprig's hermetic functions a commit message has no use for
// and whose cost a template could multiply: key and certificate
// generation, password hashing and key derivation, and seq (a string as
// long as its range). A template naming one does not parse.
var costly = []string{
	"genPrivateKey", "genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
	"genSignedCert", "genSignedCertWithKey", "buildCustomCert", "derivePassword", "bcrypt", "htpasswd",
	"encryptAES", "decryptAES", "seq",
}

// templateFuncs are Sprig's hermetic functions without the costly ones,
// with repeat, indent, nindent, until and untilStep bounded.
func templateFuncs() template.FuncMap {
	m := sprig.HermeticTxtFuncMap()
	for _, name := range costly {
		delete(m, name)
	}
	m["repeat"] = func(count int, s string) (string, error) {
		if count < 0 || (len(s) > 0 && count > maxMessage/len(s)) {
			return "", fmt.Errorf("repeat: %d copies of %d bytes exceed the %d bytes of a commit message", count, len(s), maxMessage)
		}
		return strings.Repeat(s, count), nil
	}
	indent := func(n int, s string) (string, error) {
		if n < 0 || n > maxIndent {
			return "", fmt.Errorf("indent: %d spaces is more than %d", n, maxIndent)
		}
		if strings.Count(s, "\n")*n > maxMessage {
			return "", fmt.Errorf("indent: the result would exceed the %d bytes of a commit message", maxMessage)
		}
		pad := strings.Repeat(" ", n)
		return pad + strings.ReplaceAll(s, "\n", "\n"+pad), nil
	}
	m["indent"] = indent
	m["nindent"] = func(n int, s string) (string, error) {
		out, err := indent(n, s)
		return "\n" + out, err
	}
	m["until"] = func(count int) ([]int, error) {
		return untilStep(0, count, map[bool]int{true: 1, false: -1}[count >= 0])
	}
	m["untilStep"] = untilStep
	return m
}

// untilStep is Sprig's untilStep, bounded to maxListLen elements.
func untilStep(start, stop, step int) ([]int, error) {
	if step == 0 || (stop > start) != (step > 0) || start == stop {
		return []int{}, nil
	}
	n := (stop - start) / step
	if (stop-start)%step != 0 {
		n++
	}
	if n > maxListLen || n < 0 {
		return nil, fmt.Errorf("untilStep: %d elements is more than %d", n, maxListLen)
	}
	out := make([]int, 0, n)
	for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
		out = append(out, i)
	}
	return out, nil
}
