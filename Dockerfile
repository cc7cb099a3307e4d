# The driftless-controller image: a static binary on distroless, run as
# nonroot (65532). `make image` builds the same image without Docker
# (hack/image); this file is for registries' and users' own builds:
#   docker build --build-arg VERSION=$(git describe --tags --always) -t driftless-controller .

FROM golang:1.26 AS builder
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath \
      -ldflags "-s -w -X github.com/driftless/driftless/internal/version.Version=${VERSION}" \
      -o /out/driftless-controller ./cmd/driftless-controller

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="driftless-controller" \
      org.opencontainers.image.source="https://github.com/driftless/driftless" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=builder /out/driftless-controller /driftless-controller
USER 65532:65532
ENTRYPOINT ["/driftless-controller"]
