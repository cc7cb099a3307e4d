package cli

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	notificationv1 "github.com/driftless/driftless/api/notification/v1"
)

// WebhookAnnotation holds, on a receiver secret, the webhook URL of the
// Receiver of the same name.
const webhookAnnotation = "notification.toolkit.fluxcd.io/webhook"

// secretReceiverTypes are the Receiver types whose Secret holds a token:
// every type but generic-oidc, which takes no Secret.
var secretReceiverTypes = []string{
	notificationv1.GenericReceiver, notificationv1.GenericHMACReceiver, notificationv1.GitHubReceiver,
	notificationv1.GitLabReceiver, notificationv1.BitbucketReceiver, notificationv1.HarborReceiver,
	notificationv1.DockerHubReceiver, notificationv1.QuayReceiver, notificationv1.GCRReceiver,
	notificationv1.NexusReceiver, notificationv1.ACRReceiver, notificationv1.CDEventsReceiver,
}

type createSecretReceiverOptions struct {
	receiverType, token, hostname string
	emailClaim, audienceClaim     string
}

func newCreateSecretReceiverCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createSecretReceiverOptions{}
	cmd := newCreateSecretKindCommand(f, common, "receiver", &cobra.Command{
		Short: "Create or update a Kubernetes secret for a Receiver webhook",
		Long: `The create secret receiver command generates a Kubernetes secret with
the token used for webhook payload validation and an annotation with the
computed webhook URL of the Receiver that has the secret's name.`,
		Example: `  # Create a receiver secret for a GitHub webhook
  flux create secret receiver github-receiver \
    --namespace=my-namespace \
    --type=github \
    --hostname=flux.example.com \
    --export

  # Create a receiver secret for GCR with email claim
  flux create secret receiver gcr-receiver \
    --namespace=my-namespace \
    --type=gcr \
    --hostname=flux.example.com \
    --email-claim=sa@project.iam.gserviceaccount.com \
    --export`,
	}, o.secret)
	fl := cmd.Flags()
	fl.StringVar(&o.receiverType, "type", "", "the Receiver type, available options are: ("+strings.Join(secretReceiverTypes, ", ")+")")
	fl.StringVar(&o.token, "token", "", "webhook token used for payload validation and URL computation, auto-generated if not specified")
	fl.StringVar(&o.hostname, "hostname", "", "hostname for the webhook URL e.g. flux.example.com")
	fl.StringVar(&o.emailClaim, "email-claim", "", "IAM service account email, required for gcr type")
	fl.StringVar(&o.audienceClaim, "audience-claim", "", "custom OIDC token audience for gcr type, defaults to the webhook URL")
	return cmd
}

// secret checks the flags and returns the Secret: the token (and for gcr
// the email and audience claims), annotated with the webhook URL.
func (o *createSecretReceiverOptions) secret(_ context.Context, name, ns string) (*generatedSecret, error) {
	switch {
	case o.receiverType == "":
		return nil, fmt.Errorf("--type is required, one of: %s", strings.Join(secretReceiverTypes, ", "))
	case o.receiverType == notificationv1.GenericOIDCReceiver:
		return nil, fmt.Errorf("--type=generic-oidc receivers take no secret: they trust the OIDC providers listed in the Receiver")
	case !slices.Contains(secretReceiverTypes, o.receiverType):
		return nil, fmt.Errorf("receiver type %q in --type is not supported, must be one of: %s", o.receiverType, strings.Join(secretReceiverTypes, ", "))
	case o.hostname == "":
		return nil, fmt.Errorf("--hostname is required, e.g. --hostname=flux.example.com")
	case o.receiverType == notificationv1.GCRReceiver && o.emailClaim == "":
		return nil, fmt.Errorf("--email-claim is required for gcr receiver type")
	case o.receiverType != notificationv1.GCRReceiver && (o.emailClaim != "" || o.audienceClaim != ""):
		return nil, fmt.Errorf("--email-claim and --audience-claim are only used with --type=gcr")
	}
	host, _, _ := strings.Cut(o.hostname, ":")
	if strings.Contains(o.hostname, "/") || len(validation.IsDNS1123Subdomain(host)) > 0 {
		return nil, fmt.Errorf("invalid --hostname %q: give a host name (and port) without scheme or path, e.g. flux.example.com", o.hostname)
	}
	token := o.token
	if token == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("generate token: %w", err)
		}
		token = hex.EncodeToString(b)
	}
	sum := sha256.Sum256([]byte(token + name + ns))
	webhook := "https://" + o.hostname + notificationv1.ReceiverWebhookPathPrefix + hex.EncodeToString(sum[:])
	data := map[string]string{"token": token}
	if o.receiverType == notificationv1.GCRReceiver {
		data["email"] = o.emailClaim
		data["audience"] = o.audienceClaim
		if o.audienceClaim == "" {
			data["audience"] = webhook
		}
	}
	return &generatedSecret{
		data:        data,
		annotations: map[string]string{webhookAnnotation: webhook},
		notes:       []string{"webhook URL: " + webhook},
	}, nil
}
