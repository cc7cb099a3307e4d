package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/ext"
)

// GCR is what a gcr Receiver's Secret holds besides the token: the
// service account Pub/Sub signs as, and the audience of its tokens.
type GCR struct {
	Email    string
	Audience string
}

// OIDCProvider is a compiled spec.oidcProviders entry.
type OIDCProvider struct {
	IssuerURL string
	Audience  string
	variables []oidcVariable
	rules     []oidcRule
}

type oidcVariable struct {
	name    string
	program cel.Program
}

type oidcRule struct {
	program cel.Program
	message string
}

// OIDCVariable and OIDCValidation are the CEL parts of a provider.
type (
	OIDCVariable   struct{ Name, Expression string }
	OIDCValidation struct{ Expression, Message string }
)

// CompileOIDCProvider compiles a provider's variables (over 'claims' and
// the earlier 'vars') and validations, which must return bool.
func CompileOIDCProvider(issuer, audience string, vars []OIDCVariable, validations []OIDCValidation) (*OIDCProvider, error) {
	env, err := cel.NewEnv(
		cel.Variable("claims", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("vars", cel.MapType(cel.StringType, cel.DynType)),
		ext.Strings(),
	)
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	compile := func(expr string, wantBool bool) (cel.Program, error) {
		if len(expr) > maxExpressionSize {
			return nil, fmt.Errorf("expression longer than %d characters", maxExpressionSize)
		}
		ast, iss := env.Compile(expr)
		if iss.Err() != nil {
			return nil, iss.Err()
		}
		if t := ast.OutputType().String(); wantBool && t != "bool" && t != "dyn" {
			return nil, fmt.Errorf("expression returns %s, not bool", t)
		}
		return env.Program(ast, cel.CostLimit(FilterCostLimit), cel.InterruptCheckFrequency(100))
	}
	p := &OIDCProvider{IssuerURL: issuer, Audience: audience}
	for i, v := range vars {
		prg, err := compile(v.Expression, false)
		if err != nil {
			return nil, fmt.Errorf("variables[%d] '%s': %w", i, v.Name, err)
		}
		p.variables = append(p.variables, oidcVariable{name: v.Name, program: prg})
	}
	if len(validations) == 0 {
		return nil, fmt.Errorf("no validations: a valid signature alone does not say who the caller is")
	}
	for i, v := range validations {
		prg, err := compile(v.Expression, true)
		if err != nil {
			return nil, fmt.Errorf("validations[%d] '%s': %w", i, v.Expression, err)
		}
		p.rules = append(p.rules, oidcRule{program: prg, message: v.Message})
	}
	return p, nil
}

// validate runs the variables, then every validation, over claims.
func (p *OIDCProvider) validate(ctx context.Context, claims map[string]any) error {
	ctx, cancel := context.WithTimeout(ctx, FilterTimeout)
	defer cancel()
	vars := map[string]any{}
	for _, v := range p.variables {
		out, _, err := v.program.ContextEval(ctx, map[string]any{"claims": claims, "vars": vars})
		if err != nil {
			return refuse("variable %q could not be evaluated from the token's claims", v.name)
		}
		vars[v.name] = out.Value()
	}
	for _, r := range p.rules {
		out, _, err := r.program.ContextEval(ctx, map[string]any{"claims": claims, "vars": vars})
		if b, ok := out.Value().(bool); err != nil || !ok || !b {
			return refuse("%s", truncateMessage(r.message))
		}
	}
	return nil
}

func truncateMessage(s string) string {
	if len(s) > 256 {
		return s[:256] + "..."
	}
	return s
}

// checkGenericOIDC verifies the Bearer ID token with the provider whose
// issuer signed it, then its validations.
func checkGenericOIDC(ctx context.Context, c Config, r Request) (Result, error) {
	raw, err := bearer(r.Header)
	if err != nil {
		return Result{}, err
	}
	tok, err := parseToken(raw)
	if err != nil {
		return Result{}, err
	}
	for _, p := range c.OIDC {
		if p.IssuerURL != tok.issuer {
			continue
		}
		jwks, err := c.Keys.jwksOf(ctx, p.IssuerURL)
		if err != nil {
			return Result{}, keyError(err)
		}
		key, err := c.Keys.key(ctx, jwks, tok.kid)
		if err != nil {
			return Result{}, keyError(err)
		}
		if err := tok.verify(key, []string{p.IssuerURL}, p.Audience, time.Now()); err != nil {
			return Result{}, err
		}
		if err := p.validate(ctx, tok.claims); err != nil {
			return Result{}, err
		}
		res := accepted(r.Body)
		res.Claims = tok.claims
		return res, nil
	}
	return Result{}, refuse("the ID token's issuer %q is not one of spec.oidcProviders", truncate(tok.issuer))
}

// checkGCR verifies the Google-signed ID token of a Pub/Sub push: its
// audience and service account are the Secret's; then the push envelope.
func checkGCR(ctx context.Context, c Config, r Request) (Result, error) {
	if c.GCR.Email == "" || c.GCR.Audience == "" {
		return Result{}, refuse("the receiver's Secret needs 'email' and 'audience' for gcr")
	}
	raw, err := bearer(r.Header)
	if err != nil {
		return Result{}, err
	}
	tok, err := parseToken(raw)
	if err != nil {
		return Result{}, err
	}
	url := c.Keys.GoogleURL
	if url == "" {
		url = GoogleKeysURL
	}
	key, err := c.Keys.key(ctx, url, tok.kid)
	if err != nil {
		return Result{}, keyError(err)
	}
	if err := tok.verify(key, []string{"accounts.google.com", "https://accounts.google.com"}, c.GCR.Audience, time.Now()); err != nil {
		return Result{}, err
	}
	if email, _ := tok.claims["email"].(string); email != c.GCR.Email {
		return Result{}, refuse("the ID token's email is not the receiver's service account")
	}
	if verified, _ := tok.claims["email_verified"].(bool); !verified {
		return Result{}, refuse("the ID token's email is not verified")
	}
	var push struct {
		Message struct {
			Data string `json:"data"`
		} `json:"message"`
		Subscription string `json:"subscription"`
	}
	if err := json.Unmarshal(r.Body, &push); err != nil || push.Message.Data == "" {
		return Result{}, refuse("cannot decode the Pub/Sub push: it needs message.data")
	}
	data, err := base64.StdEncoding.DecodeString(push.Message.Data)
	if err != nil {
		return Result{}, refuse("the Pub/Sub message data is not base64")
	}
	var gcr struct {
		Action string `json:"action"`
	}
	if err := json.Unmarshal(data, &gcr); err != nil || gcr.Action == "" {
		return Result{}, refuse("the Pub/Sub message is not a GCR notification (no 'action')")
	}
	res := accepted(r.Body)
	res.Claims = tok.claims
	return res, nil
}

// keyError refuses a token whose key could not be had; why goes to the
// log only.
func keyError(err error) error {
	return &Error{Status: http.StatusBadRequest, Reason: "cannot verify the ID token: its signing key is not available", Detail: err.Error()}
}
