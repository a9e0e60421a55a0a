# syntax=docker/dockerfile:1
#
# One image for every Parley app; the app is chosen by the command:
#   docker run parley apps/gateway/dist/main.js
#   docker run parley apps/conference/dist/main.js
# (docker-compose.yml does this for gateway, conference, media and presence.)
#
# Stages:
#   base       node:20-bookworm-slim, the settings every stage shares
#   manifests  only the package.json files and the lockfile, so `npm ci` is re-run
#              when dependencies change, not on every source edit
#   deps       npm ci (all dependencies, dev included: the build needs tsc)
#   build      npm run build, then npm prune --omit=dev; assembles /out
#   worker     builds mediasoup-worker against Debian 12's libraries (see docs/architecture.md)
#   runtime    node:20-bookworm-slim + the worker's runtime libraries + /out + the worker

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
# mediasoup's postinstall would download a prebuilt worker from GitHub (or build one with
# pip-installed tools). With MEDIASOUP_WORKER_BIN set it does nothing: we build the worker
# ourselves in the `worker` stage and the runtime points here.
ENV MEDIASOUP_WORKER_BIN=/opt/mediasoup-worker \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    SCARF_ANALYTICS=false \
    NX_DAEMON=false

# ---------------------------------------------------------------------------------------
FROM base AS manifests
COPY . /src
RUN set -eu; \
    mkdir -p /manifests; \
    cd /src; \
    cp package.json package-lock.json /manifests/; \
    for f in apps/*/package.json libs/*/package.json; do \
      [ -f "$f" ] || continue; \
      mkdir -p "/manifests/$(dirname "$f")"; \
      cp "$f" "/manifests/$f"; \
    done

# ---------------------------------------------------------------------------------------
FROM base AS deps
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund

# ---------------------------------------------------------------------------------------
FROM deps AS build
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && mkdir -p /out \
 && cp -a package.json node_modules /out/ \
 && for d in apps/* libs/*; do \
      [ -f "$d/package.json" ] || continue; \
      mkdir -p "/out/$d"; \
      cp -a "$d/package.json" "/out/$d/"; \
      if [ -d "$d/dist" ]; then cp -a "$d/dist" "/out/$d/"; fi; \
    done \
 && find /out/apps /out/libs -name '*.tsbuildinfo' -delete

# ---------------------------------------------------------------------------------------
# mediasoup-worker, built by the repository script with Debian's meson and ninja against
# Debian 12's system libraries (each meson subproject replaced by a shim declaring the
# system dependency). The script installs nothing itself: the toolchain is installed here.
# This stage only depends on the lockfile (through node_modules/mediasoup) and the script,
# so the ~3 minute build is cached across ordinary source changes.
FROM base AS worker
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ python3 meson ninja-build pkg-config \
      libuv1-dev libssl-dev libsrtp2-dev libusrsctp-dev libabsl-dev nlohmann-json3-dev \
 && rm -rf /var/lib/apt/lists/*
COPY --from=manifests /manifests/package.json /manifests/package-lock.json ./
COPY --from=deps /app/node_modules/mediasoup ./node_modules/mediasoup
COPY scripts/build-mediasoup-worker.sh ./scripts/build-mediasoup-worker.sh
RUN bash scripts/build-mediasoup-worker.sh /opt/mediasoup-worker \
 && test -x /opt/mediasoup-worker \
 && ldd /opt/mediasoup-worker

# ---------------------------------------------------------------------------------------
FROM base AS runtime
# Only the shared libraries mediasoup-worker links against (no compilers, no -dev packages).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libuv1 libssl3 libsrtp2-1 libusrsctp2 libabsl20220623 \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
COPY --from=worker /opt/mediasoup-worker /opt/mediasoup-worker
# Fail the build here, not at the first conference, if a runtime library is missing.
RUN if ldd /opt/mediasoup-worker | grep 'not found'; then echo 'mediasoup-worker: missing runtime libraries' >&2; exit 1; fi
COPY --from=build /out/ ./
# Without DATABASE_URL a service embeds PGlite under ./.data; make that writable for `node`. The
# blob store's directory too (docker-compose.yml mounts the volume `blobs` there: a new named
# volume takes the owner of the directory it is mounted on).
RUN mkdir -p /app/.data /data/blobs && chown node:node /app/.data /data/blobs
USER node
# gateway's HTTP port (the other apps only speak NATS).
EXPOSE 8080
ENTRYPOINT ["node"]
CMD ["apps/gateway/dist/main.js"]
