package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// bucketTestKeys are the access and secret keys the bucket tests give;
// the secret key must never be printed by --export.
const (
	bucketTestAccessKey = "AKIAEXAMPLEACCESS"
	bucketTestSecretKey = "wJalrXUtnFEMI-example-secret-key"
)

// TestCreateSourceBucketExport: Flux's documented examples of `flux create
// source bucket` and every other flag, printed with --export.
func TestCreateSourceBucketExport(t *testing.T) {
	minio := "--endpoint=minio.minio.svc.cluster.local:9000"
	for _, tc := range []struct {
		golden   string
		args     []string
		wantWarn string
	}{
		// A generic (MinIO) bucket over plain HTTP, without credentials.
		{"create/source-bucket-generic.yaml", []string{"podinfo", "--bucket-name=podinfo", minio, "--insecure", "--interval=10m"}, ""},
		// With keys: as Flux, the Bucket alone, with no keys and no
		// reference to a Secret the export does not create.
		{"create/source-bucket-keys.yaml", []string{"podinfo", "--bucket-name=podinfo", minio, "--insecure", "--interval=10m",
			"--access-key=" + bucketTestAccessKey, "--secret-key=" + bucketTestSecretKey}, "the keys are not part of the export"},
		// Amazon S3 in a region, with the keys of an existing Secret.
		{"create/source-bucket-aws-region.yaml", []string{"podinfo", "--bucket-name=podinfo", "--provider=aws",
			"--endpoint=s3.amazonaws.com", "--region=us-east-1", "--secret-ref=podinfo-s3", "--interval=10m"}, ""},
		// Ignore paths and a fetch timeout.
		{"create/source-bucket-ignore-paths.yaml", []string{"podinfo", "--bucket-name=podinfo", "--endpoint=storage.googleapis.com",
			"--ignore-paths=/docs,*.md", "--fetch-timeout=2m"}, ""},
		// Every other flag.
		{"create/source-bucket-all-flags.yaml", []string{"app", "-n", "apps", "--bucket-name=releases", "--provider=aws",
			"--endpoint=10.0.0.7:9000", "--region=eu-west-1", "--secret-ref=s3-keys", "--proxy-secret-ref=proxy", "--insecure",
			"--ignore-paths=/tmp", "--fetch-timeout=90s", "--interval=5m", "--label=team=web,tier=frontend"},
			"with --insecure the signed requests and the objects travel over plain HTTP"},
		{"create/kustomization-bucket-source.yaml", nil, ""},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			args := append([]string{"create", "source", "bucket"}, tc.args...)
			if tc.args == nil {
				args = []string{"create", "kustomization", "podinfo", "--source=Bucket/podinfo", "--path=./kustomize", "--prune"}
			}
			out, errOut, err := runFlux(t, "", append(args, "--export")...)
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut)
			}
			compareCLIGolden(t, tc.golden, out)
			if tc.wantWarn != "" && !strings.Contains(errOut, tc.wantWarn) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantWarn, errOut)
			}
			if strings.Contains(out+errOut, bucketTestSecretKey) || strings.Contains(out+errOut, bucketTestAccessKey) {
				t.Errorf("a key was printed:\nstdout:\n%s\nstderr:\n%s", out, errOut)
			}
		})
	}

	// The providers the controller does not fetch from are written, as
	// Flux writes them, with a warning that says what works instead.
	for provider, want := range map[string]string{
		"aws":   "--provider=aws without keys: Driftless does not use cloud identity",
		"gcp":   "use --provider=generic --endpoint=storage.googleapis.com with HMAC keys",
		"azure": "Driftless does not fetch from --provider=azure",
	} {
		out, errOut, err := runFlux(t, "", "create", "source", "bucket", "x", "--bucket-name=b", "--endpoint=storage.example.com",
			"--provider="+provider, "--export")
		if err != nil || !strings.Contains(out, "provider: "+provider) || !strings.Contains(errOut, want) {
			t.Errorf("--provider=%s: %v\nstdout:\n%s\nstderr:\n%s", provider, err, out, errOut)
		}
	}
}

func TestCreateSourceBucketBadFlags(t *testing.T) {
	bucket := func(extra ...string) []string {
		return append([]string{"create", "source", "bucket", "x"}, extra...)
	}
	ok := []string{"--bucket-name=podinfo", "--endpoint=minio.example.com:9000"}
	with := func(extra ...string) []string { return bucket(append(append([]string{}, ok...), extra...)...) }
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"create", "source", "bucket", ok[0], ok[1]}, "name is required"},
		{[]string{"create", "source", "bucket", "Bad_Name", ok[0], ok[1]}, `invalid name "Bad_Name"`},
		{with("--provider=oracle"), `bucket provider "oracle" in --provider is not supported, must be one of: generic, aws, gcp, azure`},
		{bucket("--endpoint=minio.example.com"), "bucket name is required: add --bucket-name=<bucket>"},
		{bucket("--bucket-name=podinfo/apps", "--endpoint=minio.example.com"), `invalid --bucket-name "podinfo/apps": a bucket name has no '/'`},
		{bucket("--bucket-name=pod info", "--endpoint=minio.example.com"), "a bucket name has no spaces"},
		{bucket("--bucket-name=podinfo"), "endpoint is required: add --endpoint=<host[:port]>"},
		{bucket("--bucket-name=podinfo", "--endpoint=http://minio.example.com:9000"),
			`invalid --endpoint "http://minio.example.com:9000": drop the scheme and give host[:port], --endpoint=minio.example.com:9000; add --insecure to reach it over plain HTTP`},
		{bucket("--bucket-name=podinfo", "--endpoint=https://s3.amazonaws.com/podinfo"),
			`drop the scheme and give host[:port], --endpoint=s3.amazonaws.com; HTTPS is the default`},
		{bucket("--bucket-name=podinfo", "--endpoint=minio.example.com/podinfo"),
			`give host[:port] without a path, --endpoint=minio.example.com (a path is not a bucket: name the bucket with --bucket-name)`},
		{bucket("--bucket-name=podinfo", "--endpoint=minio.example.com:http"), `port "http" is not a number from 1 to 65535`},
		{bucket("--bucket-name=podinfo", "--endpoint=minio.example.com:70000"), `port "70000" is not a number`},
		{bucket("--bucket-name=podinfo", "--endpoint=minio_example"), `"minio_example" is not a host name or IP address`},
		{with("--access-key=" + bucketTestAccessKey), "--access-key and --secret-key must be given together"},
		{with("--secret-key=" + bucketTestSecretKey), "--access-key and --secret-key must be given together"},
		{with("--access-key="+bucketTestAccessKey, "--secret-key="+bucketTestSecretKey, "--secret-ref=keys"),
			"--access-key and --secret-key cannot be combined with --secret-ref"},
		{with("--secret-ref=Bad_Secret"), `invalid --secret-ref "Bad_Secret": not a valid Secret name`},
		{with("--proxy-secret-ref=-p"), `invalid --proxy-secret-ref "-p"`},
		{with("--fetch-timeout=-1s"), "--fetch-timeout must be positive"},
		{with("--interval=0s"), "--interval must be positive"},
		{with("--label=novalue"), "key=value"},
	} {
		t.Run(strings.Join(tc.args[3:], " "), func(t *testing.T) {
			out, errOut, err := runFlux(t, "", append(tc.args, "--export")...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
			}
			if strings.Contains(err.Error()+out+errOut, bucketTestSecretKey) {
				t.Errorf("the secret key is in the answer: %v", err)
			}
		})
	}
}

// TestCreateSourceBucketExportApplies applies every exported Bucket to the
// cluster: the API server takes each (the CRD's validation) and reads back
// the same spec, with its default timeout (60s) filled in.
func TestCreateSourceBucketExportApplies(t *testing.T) {
	ns := env.Namespace(t)
	files, err := filepath.Glob(filepath.Join("testdata", "create", "source-bucket-*.yaml"))
	if err != nil || len(files) < 5 {
		t.Fatalf("the source-bucket goldens: %v %v", files, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		want := &sourcev1.Bucket{}
		if err := yaml.UnmarshalStrict(data, want); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		obj := want.DeepCopy()
		obj.Namespace = ns
		obj.Name = strings.TrimSuffix(filepath.Base(file), ".yaml")
		// A shard nobody reconciles: the object stays as applied.
		obj.Labels = map[string]string{shardKey: unansweredShard}
		if err := kube.Create(context.Background(), obj); err != nil {
			t.Fatalf("%s is refused by the API server: %v", file, err)
		}
		got := &sourcev1.Bucket{}
		if err := kube.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err != nil {
			t.Fatal(err)
		}
		if want.Spec.Timeout == nil {
			want.Spec.Timeout = &metav1.Duration{Duration: time.Minute}
		}
		if !equality.Semantic.DeepEqual(got.Spec, want.Spec) {
			t.Errorf("%s read back differs:\n got %+v\nwant %+v", file, got.Spec, want.Spec)
		}
	}
}
