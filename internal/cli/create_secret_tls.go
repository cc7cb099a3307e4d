package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
)

// tlsFileOptions are the certificate flags of `create secret tls` and
// `create secret helm`: a client certificate and its key, and a CA.
type tlsFileOptions struct {
	crtFile, keyFile, caFile string
}

func (o *tlsFileOptions) addFlags(fl *pflag.FlagSet) {
	fl.StringVar(&o.crtFile, "tls-crt-file", "", "TLS authentication cert file path")
	fl.StringVar(&o.keyFile, "tls-key-file", "", "TLS authentication key file path")
	fl.StringVar(&o.caFile, "ca-crt-file", "", "TLS authentication CA file path")
}

func (o *tlsFileOptions) empty() bool { return o.crtFile == "" && o.keyFile == "" && o.caFile == "" }

// data reads and checks the files into the keys Flux stores them under:
// tls.crt and tls.key (both or neither) and ca.crt.
func (o *tlsFileOptions) data() (map[string]string, error) {
	data := map[string]string{}
	if err := bothOrNeither("--tls-crt-file", o.crtFile, "--tls-key-file", o.keyFile); err != nil {
		return nil, err
	}
	if o.crtFile != "" {
		crt, key, err := readKeyPair(o.crtFile, o.keyFile)
		if err != nil {
			return nil, err
		}
		data[corev1.TLSCertKey], data[corev1.TLSPrivateKeyKey] = crt, key
	}
	if o.caFile != "" {
		ca, err := readCertificates("--ca-crt-file", o.caFile)
		if err != nil {
			return nil, err
		}
		data["ca.crt"] = ca
	}
	return data, nil
}

func newCreateSecretTLSCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &tlsFileOptions{}
	cmd := newCreateSecretKindCommand(f, common, "tls", &cobra.Command{
		Short: "Create or update a Kubernetes secret with TLS certificates",
		Long: `The create secret tls command generates a Kubernetes secret with certificates for use with TLS:
the client certificate and key (tls.crt, tls.key; the secret is then of type kubernetes.io/tls)
and the CA certificate (ca.crt). Files must be PEM-encoded.`,
		Example: `  # Create a TLS secret on disk and encrypt it with SOPS.
  # Files are expected to be PEM-encoded.
  flux create secret tls certs \
    --namespace=my-namespace \
    --tls-crt-file=./client.crt \
    --tls-key-file=./client.key \
    --ca-crt-file=./ca.crt \
    --export > certs.yaml

  sops --encrypt --encrypted-regex '^(data|stringData)$' \
    --in-place certs.yaml`,
	}, func(context.Context, string, string) (*generatedSecret, error) {
		if o.empty() {
			return nil, fmt.Errorf("nothing to store: give --tls-crt-file and --tls-key-file, and/or --ca-crt-file")
		}
		data, err := o.data()
		if err != nil {
			return nil, err
		}
		s := &generatedSecret{data: data, tightExport: true}
		if o.crtFile != "" {
			s.secretType = corev1.SecretTypeTLS
		}
		return s, nil
	})
	o.addFlags(cmd.Flags())
	return cmd
}

// readKeyPair reads a PEM certificate and its private key, and checks that
// they parse and belong together.
func readKeyPair(crtFile, keyFile string) (crt, key string, err error) {
	crtPEM, err := readFlagFile("--tls-crt-file", crtFile)
	if err != nil {
		return "", "", err
	}
	keyPEM, err := readFlagFile("--tls-key-file", keyFile)
	if err != nil {
		return "", "", err
	}
	if _, err := tls.X509KeyPair(crtPEM, keyPEM); err != nil {
		return "", "", fmt.Errorf("--tls-crt-file %s and --tls-key-file %s are not a valid PEM certificate and private key: %w",
			crtFile, keyFile, err)
	}
	return string(crtPEM), string(keyPEM), nil
}

// readCertificates reads a file of PEM certificates (a CA bundle) and
// checks that it holds at least one and that each parses.
func readCertificates(flag, path string) (string, error) {
	data, err := readFlagFile(flag, path)
	if err != nil {
		return "", err
	}
	rest, n := data, 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return "", fmt.Errorf("%s %s: certificate %d does not parse: %w", flag, path, n+1, err)
		}
		n++
	}
	if n == 0 {
		return "", fmt.Errorf("%s %s: no PEM certificate found (expected -----BEGIN CERTIFICATE-----)", flag, path)
	}
	return string(data), nil
}
