package webhook_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretsComparedInConstantTime reads the package's source: no secret
// is compared with ==, != or bytes.Equal (whose time leaks how much of a
// guess was right), and the comparisons go through hmac.Equal and
// subtle.ConstantTimeCompare.
func TestSecretsComparedInConstantTime(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var hmacEqual, subtleCompare int
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok {
					switch id.Name + "." + n.Sel.Name {
					case "bytes.Equal", "bytes.Compare", "strings.Compare":
						t.Errorf("%s: %s.%s is not constant-time", fset.Position(n.Pos()), id.Name, n.Sel.Name)
					case "hmac.Equal":
						hmacEqual++
					case "subtle.ConstantTimeCompare":
						subtleCompare++
					}
				}
			case *ast.BinaryExpr:
				if n.Op != token.EQL && n.Op != token.NEQ || isLiteral(n.X) || isLiteral(n.Y) {
					// A check for an absent value ("") or of a
					// constant-time result (== 1) leaks nothing.
					return true
				}
				for _, side := range []ast.Expr{n.X, n.Y} {
					if mentionsSecret(side) {
						t.Errorf("%s: a secret compared with %s", fset.Position(n.Pos()), n.Op)
					}
				}
			}
			return true
		})
	}
	if hmacEqual == 0 || subtleCompare == 0 {
		t.Errorf("hmac.Equal used %d times, subtle.ConstantTimeCompare %d: signatures and tokens must go through them", hmacEqual, subtleCompare)
	}
}

func mentionsSecret(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			l := strings.ToLower(id.Name)
			if strings.Contains(l, "token") || strings.Contains(l, "sig") || l == "mac" {
				found = true
			}
		}
		return true
	})
	return found
}

// isLiteral is an empty string or a number.
func isLiteral(e ast.Expr) bool {
	lit, ok := e.(*ast.BasicLit)
	return ok && (lit.Kind == token.INT || lit.Value == `""`)
}
