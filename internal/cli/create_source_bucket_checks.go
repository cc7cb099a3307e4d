package cli

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// checkBucketName refuses a --bucket-name no object store takes: none, or
// one with a '/' or a space (a key prefix is not part of the name).
func checkBucketName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("bucket name is required: add --bucket-name=<bucket>, the name of the bucket on the server")
	case strings.Contains(name, "/"):
		return fmt.Errorf("invalid --bucket-name %q: a bucket name has no '/'; give the bucket alone "+
			"(to download only part of it, set spec.prefix in the Bucket)", name)
	case strings.ContainsAny(name, " \t\r\n"):
		return fmt.Errorf("invalid --bucket-name %q: a bucket name has no spaces", name)
	}
	return nil
}

// checkBucketEndpoint refuses an --endpoint the controller could not use:
// it is host[:port], as the Bucket API says. A scheme gets a message
// saying what to write instead and that --insecure means plain HTTP.
func checkBucketEndpoint(endpoint string) error {
	if endpoint == "" {
		return fmt.Errorf("endpoint is required: add --endpoint=<host[:port]>, e.g. --endpoint=minio.minio.svc.cluster.local:9000")
	}
	if scheme, rest, ok := strings.Cut(endpoint, "://"); ok {
		hostPort, _, _ := strings.Cut(rest, "/")
		how := "HTTPS is the default"
		if strings.EqualFold(scheme, "http") {
			how = "add --insecure to reach it over plain HTTP"
		}
		return fmt.Errorf("invalid --endpoint %q: drop the scheme and give host[:port], --endpoint=%s; %s", endpoint, hostPort, how)
	}
	if i := strings.IndexAny(endpoint, "/?#"); i >= 0 {
		return fmt.Errorf("invalid --endpoint %q: give host[:port] without a path, --endpoint=%s "+
			"(a path is not a bucket: name the bucket with --bucket-name)", endpoint, endpoint[:i])
	}
	host := endpoint
	if h, port, err := net.SplitHostPort(endpoint); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("invalid --endpoint %q: port %q is not a number from 1 to 65535", endpoint, port)
		}
		host = h
	} else if strings.Count(endpoint, ":") == 1 {
		return fmt.Errorf("invalid --endpoint %q: write it as host[:port]", endpoint)
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	if errs := validation.IsDNS1123Subdomain(strings.ToLower(host)); len(errs) > 0 {
		return fmt.Errorf("invalid --endpoint %q: %q is not a host name or IP address: %s", endpoint, host, strings.Join(errs, "; "))
	}
	return nil
}

// warn says on stderr what the flags ask that will not work as a person
// may expect: the Bucket is still written, as Flux writes it, since the
// controller's condition says the same once it runs.
func (o *createSourceBucketOptions) warn(f *Factory) {
	keys := o.accessKey != "" || o.secretRef != ""
	switch o.provider {
	case sourcev1.BucketProviderAmazon:
		if !keys {
			fmt.Fprintln(f.Err, "⚠️ --provider=aws without keys: Driftless does not use cloud identity (IRSA, EKS Pod Identity, "+
				"instance profiles), so the Bucket will stall; give --access-key and --secret-key, or --secret-ref")
		}
	case sourcev1.BucketProviderGoogle:
		fmt.Fprintln(f.Err, "⚠️ Driftless does not fetch from --provider=gcp, so the Bucket will stall: use --provider=generic "+
			"--endpoint=storage.googleapis.com with HMAC keys (Cloud Storage's S3 interoperability)")
	case sourcev1.BucketProviderAzure:
		fmt.Fprintln(f.Err, "⚠️ Driftless does not fetch from --provider=azure, so the Bucket will stall: "+
			"only S3-compatible object stores (--provider=generic or aws) are supported")
	}
	if o.insecure && keys {
		fmt.Fprintln(f.Err, "⚠️ insecure configuration: with --insecure the signed requests and the objects travel over plain HTTP")
	}
}
