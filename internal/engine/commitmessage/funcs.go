package commitmessage

import (
	"maps"
	"text/template"

	"github.com/Masterminds/sprig/v3"

	"github.com/driftless/driftless/internal/engine/tenanttemplate"
)

// A template is a tenant's input, run in the controller: the functions
// bound what one call makes (`{{ repeat 1000000000 "x" }}` must not take
// the controller's memory), and the budget what one render does, so
// nested loops end with an error instead of keeping a worker for ever.
const (
	maxListLen = 10000
	maxSteps   = 100_000
	maxBytes   = 8 << 20
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
// with tenanttemplate's bounded and cycle-safe replacements, every call
// charged to budget.
func templateFuncs(budget *tenanttemplate.Budget) template.FuncMap {
	m := sprig.HermeticTxtFuncMap()
	for _, name := range costly {
		delete(m, name)
	}
	maps.Copy(m, tenanttemplate.Funcs(m, tenanttemplate.Limits{MaxString: maxMessage, MaxList: maxListLen}))
	return budget.Wrap(m)
}

func newBudget() *tenanttemplate.Budget {
	return &tenanttemplate.Budget{Steps: maxSteps, Bytes: maxBytes, MaxString: maxMessage}
}
