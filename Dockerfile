# syntax=docker/dockerfile:1
# The Palisade image: the `palisade` binary on a distroless base, as user 65532, ready for a
# read-only root filesystem. Build: `docker build -t palisade .` (multi-arch: `docker buildx
# build --platform linux/amd64,linux/arm64 .`). The webhook and operator manifests run it.
#
# The binary links glibc dynamically (glibc's allocator keeps parallel scans fast; musl's does
# not), so the runtime base is distroless `cc` of the same Debian release as the build stage.

ARG RUST_VERSION=1.95

FROM docker.io/library/rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so that a source change does not download and build them again.
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --package palisade --bin palisade \
    && cp target/release/palisade /palisade

FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="palisade" \
      org.opencontainers.image.description="Kubernetes security posture: scan, admission webhook, PolicyReport operator" \
      org.opencontainers.image.source="https://github.com/palisade-sec/palisade" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /palisade /usr/local/bin/palisade
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/palisade"]
CMD ["--help"]
