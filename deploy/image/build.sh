#!/usr/bin/env bash
# Builds the `outpost` OCI image with nothing pulled from a container registry:
#   1. a self-contained `dotnet publish` of src/Outpost.Cli for linux-x64 (no ICU: the build uses invariant globalization);
#   2. a minimal root filesystem unpacked from Debian packages (libc, libstdc++, libgcc, zlib, OpenSSL, CA certificates,
#      tzdata), with a user `outpost` (uid 10001) and an empty /data owned by it;
#   3. a CycloneDX bill of materials (the NuGet packages from the CycloneDX .NET tool, the .NET runtime packs and the
#      Debian packages added beside them) kept inside the image at /usr/share/outpost/sbom.cdx.json;
#   4. an image made with buildah from scratch in three layers (base root filesystem, .NET runtime, application), committed
#      with fixed timestamps so that two builds of one commit give the same digest.
#
# Usage: deploy/image/build.sh [--tag NAME:TAG] [--version V] [--work DIR] [--digest-file FILE]
#   --tag          the image name (default outpost:<version>, and outpost:latest beside it)
#   --version      the version label (default: <Version> of src/Outpost.Cli/Outpost.Cli.csproj)
#   --work         where the publish output, root filesystem and package cache go (default artifacts/image)
#   --digest-file  write the image's id (sha256:..., the digest of its configuration) to this file
# Environment: SOURCE_DATE_EPOCH (default: the time of the checked-out commit) fixes every timestamp in the image.
# Needs: root (buildah's storage), the .NET 10 SDK, apt-get (it installs podman, buildah and jq when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

# shellcheck source=deploy/image/rootfs.sh
. deploy/image/rootfs.sh

tag="" version="" work="$root/artifacts/image" digest_file=""
while (($#)); do
  case "$1" in
    --tag) tag=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --digest-file) digest_file=$2; shift 2 ;;
    *) die "unknown argument '$1' (see the comment at the top of deploy/image/build.sh)" ;;
  esac
done

ensure_image_tools
command -v dotnet >/dev/null || die "the .NET SDK 10 is required: 'dotnet' is not on PATH"

csproj=src/Outpost.Cli/Outpost.Cli.csproj
[ -n "$version" ] || version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$csproj" | head -n 1)
[ -n "$tag" ] || tag="outpost:$version"
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
source=$(git remote get-url origin 2>/dev/null || true)
case "$source" in http*://*) ;; *) source="" ;; esac   # only a public address; a local path says nothing to a user
source_date_epoch
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

rm -rf "$work/publish" "$work/app" "$work/runtime" "$work/rootfs" "$work/sbom" "$work/owned"
mkdir -p "$work/debs" "$work/rootfs" "$work/sbom"

# 1. The application: self-contained, no debug symbols or XML docs, paths in the binaries normalised.
say "publishing $csproj for linux-x64 ($version, $revision)"
# From a copy of the tree's files (tracked and new, not ignored: no bin/ or obj/), so that nothing a developer's build
# left in obj/ (another version, debug symbols) is reused: every build compiles from scratch. The copy is always at
# one path, /tmp/outpost-build/src: source generators name their types after the paths of the files they generate, so
# the same commit compiled in another folder gives other bytes. One build at a time uses it (flock).
build_root=/tmp/outpost-build
mkdir -p "$build_root"
exec 9>"$build_root/lock"
flock 9
src=$build_root/src
rm -rf "$src"
mkdir -p "$src"
if git rev-parse --git-dir >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$src" -xf -
else
  tar --exclude=./bin --exclude=./obj --exclude='*/bin' --exclude='*/obj' --exclude=./artifacts --exclude=./.git -cf - . | tar -C "$src" -xf -
fi
dotnet publish "$src/$csproj" -c Release -r linux-x64 --self-contained -o "$work/publish" -nologo -clp:NoSummary \
  -p:DebugType=none -p:DebugSymbols=false -p:GenerateDocumentationFile=false -p:ContinuousIntegrationBuild=true \
  -p:Version="$version" -p:SourceRevisionId="$revision" >"$work/publish.log" 2>&1 \
  || { cat "$work/publish.log" >&2; die "dotnet publish failed (above)"; }
# Not needed in a container: the LTTng trace provider (no LTTng there) and the static web assets manifest of a dev run.
rm -f "$work/publish/libcoreclrtraceptprovider.so" "$work/publish/outpost.staticwebassets.endpoints.json"
# (The publish stays whole and runnable in $work/publish, for a host that runs the agent beside a podman store; the
# image gets it split in two layers below, from hard links.)
cp -al "$work/publish" "$work/app"

# 2. The root filesystem from Debian packages (the versions the machine's apt sources serve today).
packages=(libc6 libstdc++6 libgcc-s1 zlib1g libssl3 ca-certificates tzdata)
say "unpacking ${packages[*]}"
rootfs=$work/rootfs
unpack_debs "$work" "$rootfs" "${packages[@]}"
cp "$work/debian.tsv" "$work/sbom/debian.tsv"
trim_rootfs "$rootfs" outpost:10001
# No shell or tools in the image: only what the .NET runtime loads.
rm -rf "$rootfs/usr/bin" "$rootfs/usr/sbin" "$rootfs/sbin" "$rootfs/bin" "$rootfs/usr/libexec"
# ca-certificates' bundle is made by its postinst, which dpkg -x does not run: concatenate it here, in a fixed order.
mkdir -p "$rootfs/etc/ssl/certs"
find "$rootfs/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | xargs cat >"$rootfs/etc/ssl/certs/ca-certificates.crt"
mkdir -p "$rootfs/app" "$rootfs/usr/share/outpost" "$work/owned/data"

# 3. The bill of materials: NuGet packages (CycloneDX .NET tool), runtime packs, Debian packages.
say "writing the CycloneDX bill of materials"
dotnet tool restore >/dev/null || die "dotnet tool restore failed (.config/dotnet-tools.json names the CycloneDX tool)"
dotnet dotnet-CycloneDX "$src/$csproj" -rt linux-x64 -tfm net10.0 -o "$work/sbom" -fn nuget.cdx.json -F Json -ns -dpr \
  -sn outpost -sv "$version" -st Container >"$work/sbom.log" 2>&1 || { cat "$work/sbom.log" >&2; die "CycloneDX failed (above)"; }
runtime_packs=$(jq -c '[.targets[".NETCoreApp,Version=v10.0/linux-x64"] | keys[] | select(startswith("runtimepack."))
  | sub("^runtimepack\\."; "") | split("/") | {type: "framework", name: .[0], version: .[1], "bom-ref": ("pkg:nuget/" + .[0] + "@" + .[1]),
    purl: ("pkg:nuget/" + .[0] + "@" + .[1])}]' "$work/app/outpost.deps.json")
debian=$(jq -R -s -c '[split("\n")[] | select(length > 0) | split("\t") | {type: "library", name: .[0], version: .[1],
  "bom-ref": ("pkg:deb/debian/" + .[0] + "@" + .[1] + "?arch=" + .[2]), purl: ("pkg:deb/debian/" + .[0] + "@" + .[1] + "?arch=" + .[2])}]' \
  "$work/sbom/debian.tsv")
jq --arg created "$created" --arg revision "$revision" --argjson runtime "$runtime_packs" --argjson debian "$debian" '
  .metadata.timestamp = $created
  | .metadata.component.properties = [{name: "org.opencontainers.image.revision", value: $revision}]
  | .components = ((.components // []) + $runtime + $debian | sort_by(.name))' \
  "$work/sbom/nuget.cdx.json" >"$work/sbom.cdx.json"   # into the application layer below: it names this version

# 4. The image: base layer, runtime layer, then the application layer (a release that changes only the application re-sends one layer).
say "assembling $tag"
base=$(buildah from scratch)
app=""
cleanup() { buildah rm "$base" ${app:+"$app"} >/dev/null 2>&1 || true; }
trap cleanup EXIT
buildah copy --quiet "$base" "$rootfs/" / >/dev/null
# /data belongs to the user the image runs as, so a fresh volume mounted there (copied up from it) is writable.
buildah copy --quiet --chown 10001:10001 "$base" "$work/owned/" / >/dev/null
base_image="localhost/outpost-base:$version"
commit "$base" "$base_image"
# The .NET runtime (the runtime packs' files, the same for every version built on one runtime) is a layer of its own:
# a release of Outpost alone then sends only its own assemblies.
mkdir -p "$work/runtime/app"
jq -r '.targets[".NETCoreApp,Version=v10.0/linux-x64"] | to_entries[] | select(.key | startswith("runtimepack."))
  | .value | ((.runtime // {}) + (.native // {})) | keys[]' "$work/app/outpost.deps.json" | LC_ALL=C sort -u \
  | while read -r file; do
      if [ -e "$work/app/$file" ]; then mv "$work/app/$file" "$work/runtime/app/$file"; fi
    done
runtime_version=$(jq -r '.targets[".NETCoreApp,Version=v10.0/linux-x64"] | keys[] | select(startswith("runtimepack.Microsoft.NETCore.App."))
  | split("/")[1]' "$work/app/outpost.deps.json")
runtime=$(buildah from "$base_image")
buildah copy --quiet "$runtime" "$work/runtime/" / >/dev/null
runtime_image="localhost/outpost-runtime:$runtime_version-$version"
commit "$runtime" "$runtime_image"
buildah rm "$runtime" >/dev/null
app=$(buildah from "$runtime_image")
buildah copy --quiet "$app" "$work/app/" /app >/dev/null
buildah copy --quiet "$app" "$work/sbom.cdx.json" /usr/share/outpost/sbom.cdx.json >/dev/null
buildah config \
  --user 10001:10001 \
  --workingdir /data \
  --entrypoint '["/app/outpost"]' \
  --cmd '["--help"]' \
  --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --env TZ=UTC \
  --env HOME=/data \
  --env OUTPOST_STORE_DataDirectory=/data \
  --stop-signal SIGTERM \
  --port 5090/tcp --port 5080/tcp \
  --volume /data \
  --label org.opencontainers.image.title=outpost \
  --label org.opencontainers.image.description="Outpost: occasionally connected store servers (store, central)" \
  --label org.opencontainers.image.version="$version" \
  --label org.opencontainers.image.revision="$revision" \
  --label org.opencontainers.image.created="$created" \
  ${source:+--label org.opencontainers.image.source="$source"} \
  --label dev.outpost.sbom=/usr/share/outpost/sbom.cdx.json \
  "$app"
commit "$app" "$tag"
if [[ "$tag" != *:latest ]]; then
  buildah tag "$tag" "${tag%:*}:latest"
fi

# The image's id: the digest of its configuration, which names every layer by the digest of its content, its labels,
# environment and entrypoint. Equal ids mean equal images. (A registry's manifest digest also depends on how the
# layers are compressed when pushed; podman's is deterministic, see docs/deploy.md.)
digest=sha256:$(podman image inspect --format '{{.Id}}' "$tag")
size=$(podman image inspect --format '{{.Size}}' "$tag")
[ -z "$digest_file" ] || printf '%s\n' "$digest" >"$digest_file"
say "built $tag: $digest, $((size / 1000000)) MB ($size bytes)"
printf '%s\n' "$digest"
