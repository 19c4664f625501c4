# iamgate as a container: one static binary on a minimal base, built from
# this repository alone (no network access beyond crates.io).
#
#   docker build -t iamgate .
#   docker run -p 4566:4566 -v iamgate-data:/var/lib/iamgate \
#     -e IAMGATE_SECRET_KEY="$(openssl rand -hex 32)" iamgate \
#     serve --listen 0.0.0.0:4566 --data-dir /var/lib/iamgate \
#           --config /usr/share/iamgate/examples/rest-cross-account/world.yaml
#
# See docs/packaging.md.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# glibc linked statically (crt-static): the binary needs no libraries, so
# the runtime image needs none either.
RUN target="$(rustc -vV | sed -n 's/^host: //p')" \
 && RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --locked -p iamgate --target "$target" \
 && install -D "target/$target/release/iamgate" /out/iamgate \
 && /out/iamgate --version

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/iamgate /usr/local/bin/iamgate
COPY examples /usr/share/iamgate/examples
USER nonroot
VOLUME /var/lib/iamgate
EXPOSE 4566
ENTRYPOINT ["/usr/local/bin/iamgate"]
CMD ["serve", "--listen", "0.0.0.0:4566", "--data-dir", "/var/lib/iamgate"]
