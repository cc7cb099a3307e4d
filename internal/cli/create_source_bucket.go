package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

// createSourceBucketOptions are the flags of `flux create source bucket`,
// named as Flux v2.9 names them.
type createSourceBucketOptions struct {
	provider, bucketName, endpoint, region string
	insecure                               bool
	secretRef, proxySecretRef              string
	ignorePaths                            []string
	fetchTimeout                           time.Duration

	// The keys to store in the Secret bucket-<name>.
	accessKey, secretKey string
}

func newCreateSourceBucketCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createSourceBucketOptions{}
	k := kinds.Bucket()
	cmd := &cobra.Command{
		Use:     k.Command.Name + " NAME",
		Aliases: k.Command.Aliases,
		Short:   "Create or update a Bucket source",
		Long: `The create source bucket command generates a Bucket resource and waits for it to be downloaded.
For buckets that need credentials, the access and secret keys are stored in the Kubernetes secret
bucket-<name>, which the Bucket references; --secret-ref names an existing secret instead.`,
		Example: `  # Create a source for a bucket of an S3-compatible server (MinIO) reached over plain HTTP
  flux create source bucket podinfo \
    --bucket-name=podinfo \
    --endpoint=minio.minio.svc.cluster.local:9000 \
    --insecure=true \
    --access-key=$ACCESS_KEY \
    --secret-key=$SECRET_KEY \
    --interval=10m

  # Create a source for an Amazon S3 bucket, with keys from an existing secret
  # (keys accesskey and secretkey)
  flux create source bucket podinfo \
    --bucket-name=podinfo \
    --provider=aws \
    --endpoint=s3.amazonaws.com \
    --region=us-east-1 \
    --secret-ref=podinfo-s3 \
    --interval=10m

  # Print the Bucket instead of applying it
  flux create source bucket podinfo \
    --bucket-name=podinfo \
    --endpoint=storage.googleapis.com \
    --ignore-paths="/docs,*.md" \
    --export`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), f, common, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.provider, "provider", sourcev1.BucketProviderGeneric,
		"the S3 compatible storage provider name, available options are: (generic, aws, azure, gcp)")
	fl.StringVar(&o.bucketName, "bucket-name", "", "the bucket name")
	fl.StringVar(&o.endpoint, "endpoint", "", "the bucket endpoint address, host[:port] without a scheme")
	fl.StringVar(&o.accessKey, "access-key", "", "the bucket access key")
	fl.StringVar(&o.secretKey, "secret-key", "", "the bucket secret key")
	fl.StringVar(&o.region, "region", "", "the bucket region")
	fl.BoolVar(&o.insecure, "insecure", false, "for when connecting to a non-TLS S3 HTTP endpoint")
	fl.StringVar(&o.secretRef, "secret-ref", "", "the name of an existing secret containing credentials")
	fl.StringVar(&o.proxySecretRef, "proxy-secret-ref", "", "the name of an existing secret containing the proxy address and credentials")
	fl.StringSliceVar(&o.ignorePaths, "ignore-paths", nil, "set paths to ignore in bucket resource (can specify multiple paths with commas: path1,path2)")
	fl.DurationVar(&o.fetchTimeout, "fetch-timeout", 0, "set a timeout for fetch operations performed by source-controller (e.g. 'bucket list')")
	return cmd
}

// run is `flux create source bucket NAME`: unless --secret-ref names an
// existing Secret, the keys the flags give are stored in the Secret
// bucket-<name>, which the Bucket then references, as Flux does. Every flag
// is checked before anything is written.
func (o *createSourceBucketOptions) run(ctx context.Context, f *Factory, common *createOptions, args []string) error {
	k := kinds.Bucket()
	name, err := checkName(args, "create "+k.Command.Path())
	if err != nil {
		return err
	}
	ns, err := f.Namespace()
	if err != nil {
		return err
	}
	bucket, err := o.build(name, ns, common)
	if err != nil {
		return err
	}
	o.warn(f)
	data := o.secretData()
	if common.export {
		// As Flux (and `create source git`): the keys are not exported, so
		// neither is a reference to a Secret that does not exist.
		if data != nil {
			fmt.Fprintln(f.Err, "⚠️ the keys are not part of the export: store them in a Secret with the keys accesskey "+
				"and secretkey, and give its name with --secret-ref")
		}
		return exportYAML(f.Out, bucket)
	}
	p := progress{f.Err}
	p.action("generating %s", k.Command.Noun)
	if data != nil {
		secretName := "bucket-" + name
		p.action("applying secret with the bucket credentials")
		secret := &generatedSecret{name: secretName, namespace: ns, data: data}
		if err := secret.apply(ctx, f); err != nil {
			return err
		}
		bucket.Spec.SecretRef = &meta.LocalObjectReference{Name: secretName}
		p.success("authentication configured")
	}
	_, err = applyAndWait(ctx, f, k, bucket)
	return err
}

// build checks the flags and returns the Bucket they describe, without the
// reference to a Secret the command writes itself.
func (o *createSourceBucketOptions) build(name, ns string, common *createOptions) (*sourcev1.Bucket, error) {
	switch o.provider {
	case sourcev1.BucketProviderGeneric, sourcev1.BucketProviderAmazon, sourcev1.BucketProviderGoogle, sourcev1.BucketProviderAzure:
	default:
		return nil, fmt.Errorf("bucket provider %q in --provider is not supported, must be one of: generic, aws, gcp, azure", o.provider)
	}
	if err := checkBucketName(o.bucketName); err != nil {
		return nil, err
	}
	if err := checkBucketEndpoint(o.endpoint); err != nil {
		return nil, err
	}
	if err := o.checkCredentialFlags(); err != nil {
		return nil, err
	}
	objMeta, interval, err := common.reconciled(name, ns)
	if err != nil {
		return nil, err
	}
	bucket := &sourcev1.Bucket{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.BucketKind},
		ObjectMeta: objMeta,
		Spec: sourcev1.BucketSpec{
			Provider:   o.provider,
			BucketName: o.bucketName,
			Endpoint:   o.endpoint,
			Insecure:   o.insecure,
			Region:     o.region,
			Interval:   interval,
		},
	}
	for _, r := range []struct {
		flag, value string
		set         func(*meta.LocalObjectReference)
	}{
		{"--secret-ref", o.secretRef, func(r *meta.LocalObjectReference) { bucket.Spec.SecretRef = r }},
		{"--proxy-secret-ref", o.proxySecretRef, func(r *meta.LocalObjectReference) { bucket.Spec.ProxySecretRef = r }},
	} {
		if r.value == "" {
			continue
		}
		if err := checkObjectName(r.flag, r.value, "Secret"); err != nil {
			return nil, err
		}
		r.set(&meta.LocalObjectReference{Name: r.value})
	}
	if len(o.ignorePaths) > 0 {
		ignore := strings.Join(o.ignorePaths, "\n")
		bucket.Spec.Ignore = &ignore
	}
	switch {
	case o.fetchTimeout < 0:
		return nil, fmt.Errorf("--fetch-timeout must be positive, got %s", o.fetchTimeout)
	case o.fetchTimeout > 0:
		bucket.Spec.Timeout = &metav1.Duration{Duration: o.fetchTimeout}
	}
	return bucket, nil
}

// checkCredentialFlags refuses keys that would be ignored: one without the
// other, or keys beside the Secret --secret-ref names. The values are never
// part of a message.
func (o *createSourceBucketOptions) checkCredentialFlags() error {
	if err := bothOrNeither("--access-key", o.accessKey, "--secret-key", o.secretKey); err != nil {
		return fmt.Errorf("%w: the Secret bucket-<name> needs both the access key and the secret key", err)
	}
	if o.accessKey != "" && o.secretRef != "" {
		return fmt.Errorf("--access-key and --secret-key cannot be combined with --secret-ref: the credentials are in the Secret it names; " +
			"leave out --secret-ref to store the keys in a new Secret")
	}
	return nil
}

// secretData is the content of the Secret bucket-<name>, nil when the
// flags give no keys (or --secret-ref names an existing Secret).
func (o *createSourceBucketOptions) secretData() map[string]string {
	if o.accessKey == "" || o.secretRef != "" {
		return nil
	}
	return map[string]string{"accesskey": o.accessKey, "secretkey": o.secretKey}
}
