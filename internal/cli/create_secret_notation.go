package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

func newCreateSecretNotationCommand(f *Factory, common *createOptions) *cobra.Command {
	var policyFile string
	var caFiles []string
	cmd := newCreateSecretKindCommand(f, common, "notation", &cobra.Command{
		Short: "Create or update a Kubernetes secret for verifications of artifacts signed by Notation",
		Long: `The create secret notation command generates a Kubernetes secret with root CA certificates
(each under its file name, which must end in .crt or .pem) and the Notation trust policy
(trustpolicy.json), checked before anything is written.`,
		Example: `  # Create a Notation configuration secret on disk and encrypt it with Mozilla SOPS
  flux create secret notation my-notation-cert \
    --namespace=my-namespace \
    --trust-policy-file=./my-trust-policy.json \
    --ca-cert-file=./my-cert.crt \
    --export > my-notation-cert.yaml

  sops --encrypt --encrypted-regex '^(data|stringData)$' \
    --in-place my-notation-cert.yaml`,
	}, func(context.Context, string, string) (*generatedSecret, error) {
		if len(caFiles) == 0 {
			return nil, fmt.Errorf("--ca-cert-file is required")
		}
		if policyFile == "" {
			return nil, fmt.Errorf("--trust-policy-file is required")
		}
		policy, err := readFlagFile("--trust-policy-file", policyFile)
		if err != nil {
			return nil, err
		}
		if err := validateTrustPolicy(policy); err != nil {
			return nil, fmt.Errorf("invalid trust policy in --trust-policy-file %s: %w", policyFile, err)
		}
		data := map[string]string{"trustpolicy.json": string(policy)}
		var errs []error
		for _, file := range caFiles {
			key := filepath.Base(file)
			if !strings.HasSuffix(key, ".crt") && !strings.HasSuffix(key, ".pem") {
				errs = append(errs, fmt.Errorf("--ca-cert-file %s: the file name must end with either .crt or .pem", file))
				continue
			}
			if _, dup := data[key]; dup || key == "trustpolicy.json" {
				errs = append(errs, fmt.Errorf("--ca-cert-file %s: another file is also named %s; certificates are stored by file name", file, key))
				continue
			}
			ca, err := readCertificates("--ca-cert-file", file)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			data[key] = ca
		}
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		return &generatedSecret{data: data}, nil
	})
	fl := cmd.Flags()
	fl.StringVar(&policyFile, "trust-policy-file", "", "notation trust policy file path")
	fl.StringSliceVar(&caFiles, "ca-cert-file", nil, "root ca cert file path")
	return cmd
}

// trustPolicyDocument is a Notation trust policy (version 1.0), the fields
// that decide whether it is valid.
type trustPolicyDocument struct {
	Version  string `json:"version"`
	Policies []struct {
		Name           string   `json:"name"`
		RegistryScopes []string `json:"registryScopes"`
		Verification   *struct {
			Level string `json:"level"`
		} `json:"signatureVerification"`
		TrustStores       []string `json:"trustStores"`
		TrustedIdentities []string `json:"trustedIdentities"`
	} `json:"trustPolicies"`
}

// validateTrustPolicy checks a trust policy as Notation does before using
// it: the version, and per statement a unique name, registry scopes, a
// known verification level, and trust stores and identities unless the
// level is skip.
func validateTrustPolicy(data []byte) error {
	var doc trustPolicyDocument
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("not a JSON trust policy document: %w", err)
	}
	if doc.Version != "1.0" {
		return fmt.Errorf("version %q is not supported, use \"1.0\"", doc.Version)
	}
	if len(doc.Policies) == 0 {
		return fmt.Errorf("trustPolicies is empty: at least one statement is required")
	}
	var names []string
	wildcard := ""
	for _, p := range doc.Policies {
		if p.Name == "" {
			return fmt.Errorf("a trust policy statement is missing a name, every statement requires a name")
		}
		if slices.Contains(names, p.Name) {
			return fmt.Errorf("multiple trust policy statements use the same name %q, statement names must be unique", p.Name)
		}
		names = append(names, p.Name)
		if len(p.RegistryScopes) == 0 {
			return fmt.Errorf("trust policy statement %q has zero registry scopes, it must specify registry scopes with at least one value", p.Name)
		}
		if slices.Contains(p.RegistryScopes, "*") {
			if len(p.RegistryScopes) > 1 {
				return fmt.Errorf("trust policy statement %q uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values", p.Name)
			}
			if wildcard != "" {
				return fmt.Errorf("registry scope '*' is used by statements %q and %q; only one statement may use it", wildcard, p.Name)
			}
			wildcard = p.Name
		}
		if p.Verification == nil || !slices.Contains([]string{"strict", "permissive", "audit", "skip"}, p.Verification.Level) {
			return fmt.Errorf("trust policy statement %q needs signatureVerification.level strict, permissive, audit or skip", p.Name)
		}
		if p.Verification.Level == "skip" {
			if len(p.TrustStores) > 0 || len(p.TrustedIdentities) > 0 {
				return fmt.Errorf("trust policy statement %q is set to skip signature verification but configured with trust stores and/or trusted identities, remove them", p.Name)
			}
			continue
		}
		if len(p.TrustStores) == 0 || len(p.TrustedIdentities) == 0 {
			return fmt.Errorf("trust policy statement %q is either missing trust stores or trusted identities, both must be specified", p.Name)
		}
		for _, s := range p.TrustStores {
			kind, name, ok := strings.Cut(s, ":")
			if !ok || name == "" || !slices.Contains([]string{"ca", "signingAuthority", "tsa"}, kind) {
				return fmt.Errorf("trust policy statement %q has malformed trust store %q, write it as ca:<name>, signingAuthority:<name> or tsa:<name>", p.Name, s)
			}
		}
	}
	return nil
}
