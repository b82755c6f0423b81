#!/usr/bin/env bash
# Builds `outpost-postgres`, PostgreSQL 15 from Debian packages in an image of our own (no registry base image), for a
# self-contained HQ trial (deploy/kubernetes/postgres). Production HQs use a managed or operator-run PostgreSQL.
# The binaries and their libraries only (no LLVM JIT, no Perl tooling), dash for initdb and the entrypoint, uid 10002.
#
# Usage: deploy/image/build-postgres.sh [--tag NAME:TAG] [--work DIR]
# Environment: SOURCE_DATE_EPOCH (default: the time of the checked-out commit).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=deploy/image/rootfs.sh
. deploy/image/rootfs.sh

tag="outpost-postgres:15" work="$(pwd)/artifacts/image-postgres"
while (($#)); do
  case "$1" in
    --tag) tag=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) die "unknown argument '$1' (see the comment at the top of deploy/image/build-postgres.sh)" ;;
  esac
done
ensure_image_tools
source_date_epoch

rm -rf "$work/rootfs" "$work/owned"
rootfs=$work/rootfs
# postgres, initdb and pg_ctl's shared libraries (as ldd lists them), their packages, and dash.
packages=(postgresql-15 dash tzdata libc6 libgcc-s1 libstdc++6 zlib1g libssl3 libicu72 libxml2 liblzma5 liblz4-1 libzstd1
  libpam0g libaudit1 libcap-ng0 libsystemd0 libcap2 libgcrypt20 libgpg-error0 libgssapi-krb5-2 libkrb5-3 libk5crypto3
  libkrb5support0 libcom-err2 libkeyutils1 libldap-2.5-0 libsasl2-2 libgnutls30 libp11-kit0 libffi8 libidn2-0
  libunistring2 libtasn1-6 libnettle8 libhogweed6 libgmp10 libpq5)
say "unpacking ${#packages[@]} Debian packages"
unpack_debs "$work" "$rootfs" "${packages[@]}"
trim_rootfs "$rootfs" postgres:10002
# What the server does not need: client programs, the JIT's bitcode, headers.
find "$rootfs/usr/lib/postgresql/15/bin" -type f ! -name postgres ! -name initdb ! -name pg_ctl ! -name pg_isready -delete
rm -rf "$rootfs/usr/lib/postgresql/15/lib/bitcode" "$rootfs/usr/lib/postgresql/15/lib/llvmjit"* "$rootfs/usr/include"
ln -sfn dash "$rootfs/bin/sh" 2>/dev/null || { mkdir -p "$rootfs/usr/bin" && ln -sfn /bin/dash "$rootfs/bin/sh"; }
install -m 0755 deploy/image/postgres-entrypoint.sh "$rootfs/usr/local/bin/outpost-postgres" 2>/dev/null \
  || { mkdir -p "$rootfs/usr/local/bin" && install -m 0755 deploy/image/postgres-entrypoint.sh "$rootfs/usr/local/bin/outpost-postgres"; }
mkdir -p "$work/owned/var/lib/postgresql/data"

c=$(buildah from scratch)
trap 'buildah rm "$c" >/dev/null 2>&1 || true' EXIT
buildah copy --quiet "$c" "$rootfs/" / >/dev/null
buildah copy --quiet --chown 10002:10002 "$c" "$work/owned/" / >/dev/null
buildah config \
  --user 10002:10002 \
  --entrypoint '["/usr/local/bin/outpost-postgres"]' \
  --env PGDATA=/var/lib/postgresql/data/pgdata \
  --env TZ=UTC \
  --stop-signal SIGINT \
  --port 5432/tcp \
  --volume /var/lib/postgresql/data \
  --label org.opencontainers.image.title=outpost-postgres \
  --label org.opencontainers.image.description="PostgreSQL 15 from Debian packages, for an Outpost HQ trial" \
  --label org.opencontainers.image.version="$(awk -F'\t' '$1 == "postgresql-15" {print $2}' "$work/debian.tsv")" \
  --label org.opencontainers.image.created="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)" \
  "$c"
commit "$c" "$tag"
say "built $tag: $(podman image inspect --format '{{.Digest}}' "$tag"), $(($(podman image inspect --format '{{.Size}}' "$tag") / 1000000)) MB"
