# docktail: a multi-stage build. The builder compiles a release binary with the Swift runtime
# linked in statically; the runtime stage is Debian slim with only libcrypto (OpenSSL, for
# SHA-1), the C++ runtime and CA certificates.
#
#   docker build -t docktail .
#   docker run -d --name docktail -p 8080:8080 \
#     -v /var/run/docker.sock:/var/run/docker.sock:ro \
#     --group-add "$(stat -c %g /var/run/docker.sock)" docktail

FROM swift:6.0-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so source edits reuse the resolved packages layer.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
RUN swift build -c release --static-swift-stdlib \
 && install -D -m 0755 -s "$(swift build -c release --show-bin-path)/docktail" /out/docktail

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 libstdc++6 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin docktail
WORKDIR /app
COPY --from=build /out/docktail /usr/local/bin/docktail
COPY Public ./Public
COPY config.json ./config.json
# Runs as an unprivileged user. Reading the engine socket needs its group: pass it with
# --group-add (see above); without it, /healthz reports the engine as unreachable.
USER docktail
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz >/dev/null || exit 1
ENTRYPOINT ["docktail"]
CMD ["--config", "/app/config.json"]
