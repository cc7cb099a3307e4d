package demo

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"sigs.k8s.io/yaml"

	"github.com/driftless/driftless/internal/engine/sops"
)

// encryptMarker starts the files of the fleet that the demo encrypts before
// pushing: they are committed as plain templates.
const encryptMarker = "# encrypted by the demo"

// k8sEncryptedRegex encrypts only the values of a Secret, as Flux's
// documentation recommends.
const k8sEncryptedRegex = "^(data|stringData)$"

// copyFleet copies the fleet repository src into dst (regular files and
// directories only).
func copyFleet(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o644)
		}
		return nil // symlinks and others are not part of the fleet
	})
}

// encryptTemplates SOPS-encrypts, in place, every YAML file of dir that
// starts with encryptMarker, for the age recipient, and returns their paths
// relative to dir.
func encryptTemplates(dir, recipient string) ([]string, error) {
	var done []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(b, []byte(encryptMarker)) {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		enc, err := sops.EncryptYAML(b, []string{recipient}, k8sEncryptedRegex)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		done = append(done, rel)
		return os.WriteFile(path, enc, 0o644)
	})
	return done, err
}

// newAgeKey generates an age identity and writes it to path (mode 0600) in
// the age-keygen format, which sops and the decryption Secret both read.
func newAgeKey(path string) (*age.X25519Identity, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, err
	}
	content := fmt.Sprintf("# public key: %s\n%s\n", id.Recipient(), id)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return nil, err
	}
	return id, nil
}

// fleetKustomizations lists the Kustomizations the bootstrap path declares
// (namespace/name), besides flux-system itself: the demo waits for them all.
func fleetKustomizations(dir string) ([]string, error) {
	var names []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, doc := range strings.Split(string(b), "\n---") {
			var obj struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name      string `json:"name"`
					Namespace string `json:"namespace"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if obj.Kind == "Kustomization" && strings.HasPrefix(obj.APIVersion, "kustomize.toolkit.fluxcd.io/") {
				ns := obj.Metadata.Namespace
				if ns == "" {
					ns = systemNamespace
				}
				names = append(names, ns+"/"+obj.Metadata.Name)
			}
		}
		return nil
	})
	return names, err
}
