package artifactgenerator_test

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	swv1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/s3test"
	"github.com/driftless/driftless/internal/testkit/tartest"
)

// TestComposeGitOCIAndBucket composes one artifact from a GitRepository,
// an OCIRepository and a Bucket, and rebuilds it when the Bucket changes.
func TestComposeGitOCIAndBucket(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	_, _ = gitSource(t, ns, "backend", map[string]string{"deploy/backend.yaml": "kind: Deployment\n"})

	// An OCI artifact, as `flux push artifact` makes it, in a registry.
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, oci.ConfigMediaType)
	layer := static.NewLayer(tartest.TarGz(t, tartest.Files(map[string]string{"deploy/frontend.yaml": "kind: Service\n"})...), oci.ContentMediaType)
	img, err := mutate.AppendLayers(img, layer)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host+"/frontend:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	or := &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "frontend", Namespace: ns},
		Spec: sourcev1.OCIRepositorySpec{URL: "oci://" + host + "/frontend", Insecure: true,
			Reference: &sourcev1.OCIRepositoryRef{Tag: "v1"}, Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := kube.Create(ctx, or); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitReady(t, kube, or)

	// A bucket of environment settings.
	s3 := s3test.Start(t, s3test.Options{})
	s3.MakeBucket(t, "configs")
	s3.Put(t, "configs", "envs/prod/configmap.yaml", []byte("env: prod\n"))
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s3-keys", Namespace: ns},
		Data: map[string][]byte{"accesskey": []byte(s3.AccessKey), "secretkey": []byte(s3.SecretKey)}}
	if err := kube.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	bucket := &sourcev1.Bucket{
		ObjectMeta: metav1.ObjectMeta{Name: "configs", Namespace: ns},
		Spec: sourcev1.BucketSpec{BucketName: "configs", Endpoint: s3.Endpoint, Insecure: true,
			SecretRef: &meta.LocalObjectReference{Name: "s3-keys"}, Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := kube.Create(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitReady(t, kube, bucket)

	controllertest.WaitReady(t, kube, newGenerator(t, ns, "my-app", swv1.ArtifactGeneratorSpec{
		Sources: []swv1.SourceReference{
			git("backend", "backend"),
			{Alias: "frontend", Kind: swv1.OCIRepositoryKind, Name: "frontend"},
			{Alias: "config", Kind: swv1.BucketKind, Name: "configs"},
		},
		OutputArtifacts: []swv1.OutputArtifact{output("my-app-composite",
			"@backend/deploy/**", "@artifact/my-app/backend/",
			"@frontend/deploy/*.yaml", "@artifact/my-app/frontend/",
			"@config/envs/prod/configmap.yaml", "@artifact/my-app/env.yaml")},
	}))
	ea := externalArtifact(t, ns, "my-app-composite")
	files := controllertest.ArtifactFiles(t, ea.Status.Artifact)
	want := map[string]string{
		"my-app/backend/backend.yaml":   "kind: Deployment\n",
		"my-app/frontend/frontend.yaml": "kind: Service\n",
		"my-app/env.yaml":               "env: prod\n",
	}
	for path, content := range want {
		if files[path] != content {
			t.Errorf("%s = %q, want %q (artifact: %v)", path, files[path], content, keys(files))
		}
	}

	// The bucket changes: the composite follows.
	s3.Put(t, "configs", "envs/prod/configmap.yaml", []byte("env: prod\nreplicas: 3\n"))
	controllertest.RequestReconcile(t, kube, bucket, "replicas")
	waitArtifact(t, ns, "my-app-composite", "the bucket's new settings", func(ea *sourcev1.ExternalArtifact) bool {
		return controllertest.ArtifactFiles(t, ea.Status.Artifact)["my-app/env.yaml"] == "env: prod\nreplicas: 3\n"
	})
}
