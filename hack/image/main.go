// Command image builds the driftless-controller container image without a
// Docker daemon: a scratch image with one layer holding the static binary
// at /driftless-controller, a CA bundle for HTTPS Git servers and a
// world-writable /tmp, run as 65532:65532. It writes a docker-archive
// tarball (the `docker save` format, with manifest.json), which
// `docker load -i` and `crane push <tar> <ref>` accept.
//
//	go run ./hack/image --binary bin/linux/driftless-controller \
//	    --tag ghcr.io/driftless/driftless-controller:v0.1.0 --output bin/driftless-controller.oci.tar
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.Binary, "binary", "bin/driftless-controller", "the statically linked linux driftless-controller binary")
	flag.StringVar(&o.CABundle, "ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "PEM CA bundle copied to /etc/ssl/certs/ca-certificates.crt (empty: none)")
	flag.StringVar(&o.Tag, "tag", "ghcr.io/driftless/driftless-controller:dev", "the image reference recorded in the tarball")
	flag.StringVar(&o.Version, "version", "dev", "org.opencontainers.image.version")
	flag.StringVar(&o.Revision, "revision", "", "org.opencontainers.image.revision (the Git commit)")
	flag.StringVar(&o.Arch, "arch", runtime.GOARCH, "the binary's architecture")
	output := flag.String("output", "bin/driftless-controller.oci.tar", "where to write the docker-archive tarball")
	flag.Parse()
	// Reproducible by default: SOURCE_DATE_EPOCH, else the Unix epoch.
	o.Created = time.Unix(0, 0).UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "image: SOURCE_DATE_EPOCH=%q is not a number of seconds\n", s)
			os.Exit(2)
		}
		o.Created = time.Unix(sec, 0).UTC()
	}
	digest, err := writeImage(o, *output)
	if err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%s %s written to %s (docker-archive; docker load -i, crane push)\n", o.Tag, digest, *output)
}
