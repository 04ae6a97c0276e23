# Lifeboat: `lifeboat init` as the container's entrypoint — it restores the database on
# boot, replicates it while the app runs, and syncs it one last time when the container
# stops. By default the image runs the demo app (examples/demo) on /data/app.db, backed up
# to $REPLICA_URL; build FROM it and replace CMD and add your /etc/lifeboat.yml (or
# /etc/litestream.yml) for your app: the demo's config is used only when there is none.
# For s6-overlay trees: /init, with-contenv, execlineb, s6-svc, s6-svscanctl, s6-svstat,
# s6-svwait, s6-log, logutil-service and litestream (docs/migrating-from-s6-overlay.md).
#
#   docker build -t lifeboat .
#   docker run -v lifeboat-data:/data -v lifeboat-replica:/replica \
#     -e REPLICA_URL=file:///replica -p 8080:8080 lifeboat
#
# docs/docker.md: multi-arch builds (buildx), sidecar mode, running as another user.

# The Node base image, for both stages: an official Node LTS slim image. Build arguments
# change it (e.g. an image mirrored to your own registry).
ARG NODE_IMAGE=node:26-bookworm-slim

# ---- build: compile better-sqlite3 and our reaper addon, compile the TypeScript ----------
FROM ${NODE_IMAGE} AS build

# Where the base image keeps Node's C headers (/usr/local in the official images):
# node-gyp compiles against them instead of downloading them.
ARG NODEDIR=/usr/local
ENV npm_config_nodedir=${NODEDIR} \
    npm_config_build_from_source=true \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# node-gyp needs python3, make and a C/C++ compiler.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first (cached while only sources change). `npm ci` also builds the package's
# own addon (binding.gyp → build/Release/reaper.node).
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
RUN npm ci

# The TypeScript, then the runtime's dependencies only (the compiled addons stay).
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev \
 && npm cache clean --force

# Everything the runtime needs, laid out under /out as it will be under / (one layer).
# better-sqlite3 keeps only its JavaScript and its compiled addon (not the SQLite sources
# and object files: 26 MB).
COPY services.d ./services.d
COPY examples/demo ./examples/demo
COPY bin ./bin
RUN mkdir -p /out/app/build/Release /out/etc /out/usr/local/bin /out/usr/bin /out/command /out/data \
 && cp -a package.json dist node_modules bin /out/app/ \
 && cp -a build/Release/reaper.node /out/app/build/Release/ \
 && sqlite=/out/app/node_modules/better-sqlite3 \
 && mv "$sqlite/build/Release/better_sqlite3.node" /tmp/ \
 && rm -rf "$sqlite/build" "$sqlite/deps" "$sqlite/src" \
 && mkdir -p "$sqlite/build/Release" \
 && mv /tmp/better_sqlite3.node "$sqlite/build/Release/" \
 && mkdir -p /out/app/examples \
 && cp -a examples/demo /out/app/examples/ \
 && cp -a services.d /out/etc/services.d \
 && chmod 755 /out/app/dist/cli/main.js /out/app/bin/init /out/app/bin/with-contenv /out/app/bin/logutil-service \
 && ln -s /app/dist/cli/main.js /out/usr/local/bin/lifeboat \
 && ln -s /app/dist/cli/main.js /out/usr/local/bin/litestream \
 && ln -s /app/bin/init /out/init \
 && ln -s /app/bin/with-contenv /out/usr/bin/with-contenv \
 && ln -s /app/bin/with-contenv /out/command/with-contenv \
 && ln -s /app/bin/logutil-service /out/usr/bin/logutil-service \
 && ln -s /app/bin/logutil-service /out/command/logutil-service \
 && ln -s /app/dist/cli/main.js /out/usr/bin/s6-svc \
 && ln -s /app/dist/cli/main.js /out/command/s6-svc \
 && ln -s /app/dist/cli/main.js /out/usr/bin/s6-svscanctl \
 && ln -s /app/dist/cli/main.js /out/command/s6-svscanctl \
 && ln -s /app/dist/cli/main.js /out/usr/bin/s6-svstat \
 && ln -s /app/dist/cli/main.js /out/command/s6-svstat \
 && ln -s /app/dist/cli/main.js /out/usr/bin/s6-svwait \
 && ln -s /app/dist/cli/main.js /out/command/s6-svwait

# ---- runtime -------------------------------------------------------------------------------
FROM ${NODE_IMAGE}

# execlineb, for s6-overlay scripts starting `#!/usr/bin/execlineb -S0` (v3: /command/execlineb):
# Debian's execline package, the real one (about 1 MB with its libraries). s6-log, for log/run
# scripts and logutil-service: only that program, taken out of Debian's s6 package (it needs
# only execline's libskarnet); the package itself would install s6-svc, s6-svstat, s6-svwait
# and s6-svscanctl over Lifeboat's own (docs/migrating-from-s6-overlay.md).
RUN apt-get update \
 && apt-get install -y --no-install-recommends execline \
 && cd /tmp \
 && apt-get download s6 \
 && dpkg-deb --fsys-tarfile s6_*.deb | tar -x -C / ./usr/bin/s6-log \
 && rm s6_*.deb \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && s6-log -h 2>&1 | grep -q '^s6-log: usage' \
 && mkdir -p /command \
 && ln -s /usr/bin/execlineb /command/execlineb \
 && ln -s /usr/bin/s6-log /command/s6-log

COPY --from=build /out/ /

# The demo app's settings, and its config, used only when the user gives none (no -config,
# $LIFEBOAT_CONFIG, $LITESTREAM_CONFIG, /etc/lifeboat.yml or /etc/litestream.yml);
# LIFEBOAT_* knobs: see docs/init.md (defaults fit Docker's 10 s).
ENV NODE_ENV=production \
    DB_PATH=/data/app.db \
    PORT=8080 \
    LIFEBOAT_DEFAULT_CONFIG=/app/examples/demo/lifeboat.yml

WORKDIR /app
EXPOSE 8080

# Replication health (docs/health.md): 0 healthy; 1 a replica more than max-lag behind or
# the replicator crash-looping; 2 no replicator answering — Docker reserves 2, hence
# `|| exit 1`. -no-replica: ask the running replicator only, never list the replica every
# 30 s. The start period covers a long restore on the first boot. The config is found the
# default way (LIFEBOAT_CONFIG, /etc/lifeboat.yml, /etc/litestream.yml, the demo's).
HEALTHCHECK --interval=30s --timeout=15s --start-period=10m --retries=3 \
  CMD lifeboat status -no-replica > /dev/null || exit 1

# Runs as root by default: Fly.io volumes are owned by root. docs/docker.md shows how to
# run the app (or everything) as another user. `lifeboat init` under V8's lite mode: the
# init is an idle supervisor, and lite mode keeps it ~7 MB smaller (docs/benchmarks.md);
# its children (the replicator, the app) are started without it.
ENTRYPOINT ["node", "--lite-mode", "/app/dist/cli/main.js", "init"]
CMD ["node", "/app/examples/demo/server.mjs"]
