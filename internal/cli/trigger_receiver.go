package cli

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	notificationv1 "github.com/driftless/driftless/api/notification/v1"
)

// triggerReceiverTypes are the Receiver types `flux trigger receiver` can
// sign for: the generic ones, which a caller of its own makes requests to.
var triggerReceiverTypes = []string{notificationv1.GenericReceiver, notificationv1.GenericHMACReceiver, notificationv1.GenericOIDCReceiver}

// maxTriggerAnswer bounds how much of the receiver's answer is read.
const maxTriggerAnswer = 64 << 10

type triggerReceiverOptions struct {
	url, token, typ, payload              string
	oidcProvider, oidcToken, oidcAudience string
	retries                               int
	retryDelay                            time.Duration
}

func newTriggerCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "trigger", Short: "Trigger webhooks of Flux resources"}
	cmd.AddCommand(newTriggerReceiverCommand(f))
	return cmd
}

func newTriggerReceiverCommand(f *Factory) *cobra.Command {
	o := &triggerReceiverOptions{}
	cmd := &cobra.Command{
		Use:   "receiver NAME",
		Short: "Trigger the webhook of a Receiver",
		Long: "The trigger receiver command sends a request to the webhook of a Receiver: it computes the\n" +
			"webhook path from the Receiver's name, namespace and token, appends it to --url and POSTs\n" +
			"the payload, signed as the type requires. It does not read the cluster.",
		Example: `  # A generic Receiver
  flux trigger receiver my-receiver --token=my-token --url=https://flux-webhook.example.com

  # A generic-hmac Receiver, with a payload its filters can read
  flux trigger receiver my-receiver --type=generic-hmac --token=my-token \
    --url=https://flux-webhook.example.com --payload='{"image":"ghcr.io/org/app:v1.0.0"}'

  # A generic-oidc Receiver from a GitHub Actions job (permissions: id-token: write)
  flux trigger receiver my-receiver --type=generic-oidc --oidc-provider=github --url=https://flux-webhook.example.com`,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := checkName(args, "trigger receiver")
			if err != nil {
				return err
			}
			ns, err := f.Namespace()
			if err != nil {
				return err
			}
			return o.run(cmd.Context(), f, name, ns)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.url, "url", "", "base URL of the webhook receiver (the webhook-receiver Service or its Ingress)")
	fl.StringVar(&o.token, "token", "", "the token of the Receiver's Secret (not used by generic-oidc)")
	fl.StringVar(&o.typ, "type", notificationv1.GenericReceiver, "the Receiver type: "+strings.Join(triggerReceiverTypes, ", "))
	fl.StringVar(&o.payload, "payload", "{}", "the JSON body of the request")
	fl.StringVar(&o.oidcProvider, "oidc-provider", "", "fetch the OIDC token from this CI provider (github) for generic-oidc")
	fl.StringVar(&o.oidcToken, "oidc-token", "", "the OIDC ID token for generic-oidc, instead of --oidc-provider")
	fl.StringVar(&o.oidcAudience, "oidc-audience", notificationv1.DefaultOIDCAudience, "the audience of the OIDC token fetched with --oidc-provider")
	fl.IntVar(&o.retries, "retries", 3, "how many times to retry a request that failed on the network, with 429 or with 5xx")
	fl.DurationVar(&o.retryDelay, "retry-delay", 2*time.Second, "the wait before each retry")
	return cmd
}

// run checks the flags, signs the request and sends it.
func (o *triggerReceiverOptions) run(ctx context.Context, f *Factory, name, ns string) error {
	typ, err := oneOf("--type", o.typ, triggerReceiverTypes)
	if err != nil {
		return err
	}
	base, err := url.Parse(o.url)
	if o.url == "" || err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("--url must be the http(s) base URL of the webhook receiver, such as https://flux-webhook.example.com")
	}
	if !json.Valid([]byte(o.payload)) {
		return fmt.Errorf("--payload is not valid JSON")
	}
	if o.retries < 0 {
		return fmt.Errorf("--retries must not be negative")
	}
	header := http.Header{"Content-Type": {"application/json"}}
	var path string
	switch typ {
	case notificationv1.GenericOIDCReceiver:
		token, err := o.idToken(ctx, f.Getenv)
		if err != nil {
			return err
		}
		header.Set("Authorization", "Bearer "+token)
		path = receiverPath("", name, ns)
	default:
		if o.token == "" {
			return fmt.Errorf("--token is required for a %s Receiver: the token key of its Secret", typ)
		}
		path = receiverPath(o.token, name, ns)
		if typ == notificationv1.GenericHMACReceiver {
			mac := hmac.New(sha256.New, []byte(o.token))
			mac.Write([]byte(o.payload))
			header.Set("X-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		}
	}
	target := strings.TrimSuffix(base.String(), "/") + path
	p := progress{f.Err}
	p.action("sending request to the %s Receiver %s/%s", typ, ns, name)
	if err := o.send(ctx, target, header); err != nil {
		return err
	}
	p.success("Receiver %s/%s triggered", ns, name)
	return nil
}

// receiverPath is the Receiver's webhook path as its controller computes
// it: /hook/ and the hex SHA-256 of token, name and namespace (no token
// for generic-oidc).
func receiverPath(token, name, ns string) string {
	sum := sha256.Sum256([]byte(token + name + ns))
	return notificationv1.ReceiverWebhookPathPrefix + hex.EncodeToString(sum[:])
}

// send POSTs the payload, retrying network errors, 429 and 5xx. Errors
// name the status and the receiver's answer, never the path (which the
// token determines).
func (o *triggerReceiverOptions) send(ctx context.Context, target string, header http.Header) error {
	client := &http.Client{Timeout: 30 * time.Second}
	var last error
	for attempt := 0; attempt <= o.retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(o.retryDelay):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader([]byte(o.payload)))
		if err != nil {
			return fmt.Errorf("building the request: %w", err)
		}
		req.Header = header.Clone()
		resp, err := client.Do(req)
		if err != nil {
			var uerr *url.Error
			if errors.As(err, &uerr) {
				err = uerr.Err // the URL holds the path, which the token determines
			}
			last = fmt.Errorf("sending the request: %w", err)
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxTriggerAnswer))
		resp.Body.Close()
		answer := strings.TrimSpace(string(body))
		switch {
		case resp.StatusCode < 300:
			return nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			last = fmt.Errorf("the receiver answered %s: %s", resp.Status, answer)
			continue
		case resp.StatusCode == http.StatusNotFound:
			return fmt.Errorf("the receiver answered %s: no Receiver has this webhook path; check the name, the namespace (-n) and the token", resp.Status)
		}
		return fmt.Errorf("the receiver answered %s: %s", resp.Status, answer)
	}
	return fmt.Errorf("%w (after %d attempts)", last, o.retries+1)
}

// idToken is --oidc-token, or the one fetched from --oidc-provider.
func (o *triggerReceiverOptions) idToken(ctx context.Context, getenv func(string) string) (string, error) {
	switch {
	case o.oidcToken != "" && o.oidcProvider != "":
		return "", fmt.Errorf("give either --oidc-token or --oidc-provider, not both")
	case o.oidcToken != "":
		return o.oidcToken, nil
	case o.oidcProvider == "github":
		return githubActionsIDToken(ctx, getenv, o.oidcAudience)
	case o.oidcProvider == "":
		return "", fmt.Errorf("a generic-oidc Receiver needs --oidc-token or --oidc-provider=github")
	}
	return "", fmt.Errorf("invalid --oidc-provider %q: must be github", o.oidcProvider)
}

// githubActionsIDToken asks GitHub Actions for an ID token with audience,
// as a job with id-token: write may.
func githubActionsIDToken(ctx context.Context, getenv func(string) string, audience string) (string, error) {
	reqURL, bearer := getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	if reqURL == "" || bearer == "" {
		return "", fmt.Errorf("--oidc-provider=github works in a GitHub Actions job with 'permissions: id-token: write' " +
			"(ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set)")
	}
	u, err := url.Parse(reqURL)
	if err != nil {
		return "", fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL")
	}
	q := u.Query()
	q.Set("audience", audience)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return "", fmt.Errorf("fetching the GitHub Actions ID token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetching the GitHub Actions ID token: %s", resp.Status)
	}
	var answer struct {
		Value string `json:"value"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxTriggerAnswer)).Decode(&answer); err != nil || answer.Value == "" {
		return "", fmt.Errorf("fetching the GitHub Actions ID token: no token in the answer")
	}
	return answer.Value, nil
}
