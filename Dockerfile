# floodgate: a static binary in a minimal image, running as non-root.
#
#   docker build -t floodgate .
#   docker run -p 5514:5514/udp -p 5514:5514/tcp -p 9514:9514 -v /var/log/floodgate:/var/log/floodgate floodgate
#
# The image's config (deploy/floodgate.toml) listens on all interfaces of the
# container and writes under /var/log/floodgate; mount your own over
# /etc/floodgate/floodgate.toml to change it.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/floodgate ./cmd/floodgate \
 && mkdir -p /out/logs /out/state

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/floodgate /usr/local/bin/floodgate
COPY deploy/floodgate.toml /etc/floodgate/floodgate.toml
COPY --from=build --chown=65532:65532 /out/logs /var/log/floodgate
COPY --from=build --chown=65532:65532 /out/state /var/lib/floodgate
USER 65532:65532
EXPOSE 5514/udp 5514/tcp 9514/tcp
VOLUME ["/var/log/floodgate", "/var/lib/floodgate"]
ENTRYPOINT ["/usr/local/bin/floodgate"]
CMD ["run", "-config", "/etc/floodgate/floodgate.toml"]
