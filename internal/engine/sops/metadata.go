package sops

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// keyType names a kind of SOPS master key as people know it.
type keyType string

const (
	keyAge      keyType = "age"
	keyPGP      keyType = "OpenPGP"
	keyAWSKMS   keyType = "AWS KMS"
	keyGCPKMS   keyType = "GCP KMS"
	keyAzureKV  keyType = "Azure Key Vault"
	keyVault    keyType = "HashiCorp Vault"
	keyHuaweiKM keyType = "HuaweiCloud KMS"
)

// masterKey is one entry of a key group: the document's data key (or Shamir
// share) encrypted for one recipient.
type masterKey struct {
	typ keyType
	id  string // recipient, fingerprint, ARN, resource ID or URL: public
	enc string
}

// metadata is the decoded sops stanza of a document.
type metadata struct {
	groups           [][]masterKey
	threshold        int
	lastModified     time.Time
	mac              string
	rules            rules
	macOnlyEncrypted bool
}

// masterKeyLists are the metadata lists holding master keys, in the order
// SOPS reads them, with the fields that identify a key of each type.
var masterKeyLists = []struct {
	field string
	typ   keyType
	id    func(m map[string]any) string
}{
	{"kms", keyAWSKMS, func(m map[string]any) string { return str(m["arn"]) }},
	{"gcp_kms", keyGCPKMS, func(m map[string]any) string { return str(m["resource_id"]) }},
	{"hckms", keyHuaweiKM, func(m map[string]any) string { return str(m["key_id"]) }},
	{"azure_kv", keyAzureKV, func(m map[string]any) string {
		return strings.TrimSuffix(str(m["vault_url"]), "/") + "/keys/" + str(m["name"]) + "/" + str(m["version"])
	}},
	{"hc_vault", keyVault, func(m map[string]any) string {
		return strings.TrimSuffix(str(m["vault_address"]), "/") + "/v1/" + str(m["engine_path"]) + "/keys/" + str(m["key_name"])
	}},
	{"pgp", keyPGP, func(m map[string]any) string { return str(m["fp"]) }},
	{"age", keyAge, func(m map[string]any) string { return str(m["recipient"]) }},
}

// parseMetadata decodes a sops stanza given as plain Go values (maps, slices,
// strings, numbers, booleans). Flattened stores (dotenv, INI) give every value
// as a string, so numbers and booleans are also accepted in string form.
func parseMetadata(raw map[string]any) (*metadata, error) {
	md := &metadata{}
	var err error
	lm, ok := raw["lastmodified"]
	if !ok {
		return nil, fmt.Errorf("sops metadata has no lastmodified")
	}
	switch v := lm.(type) {
	case time.Time:
		md.lastModified = v
	case string:
		if md.lastModified, err = time.Parse(time.RFC3339, v); err != nil {
			return nil, fmt.Errorf("sops metadata lastmodified %q is not an RFC 3339 time", v)
		}
	default:
		return nil, fmt.Errorf("sops metadata lastmodified is a %T, want a time", lm)
	}
	if md.mac, ok = raw["mac"].(string); !ok {
		return nil, fmt.Errorf("sops metadata has no mac")
	}
	if md.threshold, err = intField(raw, "shamir_threshold"); err != nil {
		return nil, err
	}
	if md.macOnlyEncrypted, err = boolField(raw, "mac_only_encrypted"); err != nil {
		return nil, err
	}
	md.rules, err = parseRules(func(name string) (string, error) {
		switch v := raw[name].(type) {
		case nil:
			return "", nil
		case string:
			return v, nil
		default:
			return "", fmt.Errorf("sops metadata %s is a %T, want a string", name, v)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("sops metadata: %w", err)
	}
	if md.groups, err = parseKeyGroups(raw); err != nil {
		return nil, err
	}
	return md, nil
}

// parseKeyGroups reads the master keys: the top-level lists form a single
// group; otherwise key_groups lists several, combined with Shamir sharing.
func parseKeyGroups(raw map[string]any) ([][]masterKey, error) {
	top, err := parseGroup(raw)
	if err != nil {
		return nil, err
	}
	if len(top) > 0 {
		return [][]masterKey{top}, nil
	}
	list, err := listField(raw, "key_groups")
	if err != nil {
		return nil, err
	}
	var groups [][]masterKey
	for i, g := range list {
		gm, ok := g.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("sops metadata key_groups[%d] is a %T, want a mapping", i, g)
		}
		group, err := parseGroup(gm)
		if err != nil {
			return nil, fmt.Errorf("sops metadata key_groups[%d]: %w", i, err)
		}
		if len(group) == 0 {
			return nil, fmt.Errorf("sops metadata key_groups[%d] is empty", i)
		}
		groups = append(groups, group)
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("sops metadata lists no master keys (age, pgp, kms, ...)")
	}
	return groups, nil
}

func parseGroup(raw map[string]any) ([]masterKey, error) {
	var group []masterKey
	for _, l := range masterKeyLists {
		list, err := listField(raw, l.field)
		if err != nil {
			return nil, err
		}
		for i, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("sops metadata %s[%d] is a %T, want a mapping", l.field, i, item)
			}
			enc, ok := m["enc"].(string)
			if !ok || enc == "" {
				return nil, fmt.Errorf("sops metadata %s[%d] has no enc", l.field, i)
			}
			group = append(group, masterKey{typ: l.typ, id: l.id(m), enc: enc})
		}
	}
	return group, nil
}

func listField(raw map[string]any, name string) ([]any, error) {
	switch v := raw[name].(type) {
	case nil:
		return nil, nil
	case []any:
		return v, nil
	default:
		return nil, fmt.Errorf("sops metadata %s is a %T, want a list", name, v)
	}
}

func intField(raw map[string]any, name string) (int, error) {
	switch v := raw[name].(type) {
	case nil:
		return 0, nil
	case int:
		return v, nil
	case int64:
		return int(v), nil
	case float64:
		if v == math.Trunc(v) && v >= 0 && v < 256 {
			return int(v), nil
		}
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("sops metadata %s is not an integer", name)
}

func boolField(raw map[string]any, name string) (bool, error) {
	switch v := raw[name].(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("sops metadata %s is not a boolean", name)
}

// str returns a string field, or "" when it is missing or not a string.
func str(v any) string {
	s, _ := v.(string)
	return s
}
