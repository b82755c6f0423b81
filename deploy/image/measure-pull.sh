#!/usr/bin/env bash
# Measures what a store downloads for a release: a real registry (Debian's docker-registry, on loopback) holds two
# versions; a store with an empty image store pulls the first by digest (a new store), then the second (a release).
# The bytes are the registry's own count of what it sent (http.response.written of each blob and manifest GET).
# Writes bench-results/pull.json.
#
# Usage: deploy/image/measure-pull.sh --from IMAGE --to IMAGE
#   e.g.  deploy/image/build.sh --tag outpost:1.0.0 --version 1.0.0 && deploy/image/build.sh --tag outpost:1.0.1 --version 1.0.1
#         deploy/image/measure-pull.sh --from localhost/outpost:1.0.0 --to localhost/outpost:1.0.1
# Needs: root, podman, docker-registry (apt-get install -y docker-registry). Listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=deploy/image/rootfs.sh
. deploy/image/rootfs.sh
from="" to=""
while (($#)); do
  case "$1" in
    --from) from=$2; shift 2 ;;
    --to) to=$2; shift 2 ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[ -n "$from" ] && [ -n "$to" ] || die "give --from IMAGE --to IMAGE (two versions built with deploy/image/build.sh)"
[ -x /usr/bin/docker-registry ] || die "needs Debian's docker-registry: apt-get install -y docker-registry"
work=$(mktemp -d)
conf=$work/containers.conf
printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n' >"$conf"
export CONTAINERS_CONF=$conf
for image in "$from" "$to"; do podman image exists "$image" || die "no image $image: build it with deploy/image/build.sh"; done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
registry=127.0.0.1:$port
cat >"$work/registry.yml" <<YML
version: 0.1
log: {level: info, formatter: json}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: $registry}
YML
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
store=$work/store
cleanup() {
  CONTAINERS_STORAGE_CONF=$store/storage.conf podman rmi -af >/dev/null 2>&1 || true
  umount -R "$store/root/overlay" >/dev/null 2>&1 || true
  kill "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do curl -fs "http://$registry/v2/" >/dev/null 2>&1 && break; sleep 0.1; done

push() { # image tag -> digest reference
  podman push --tls-verify=false --digestfile "$work/digest" "$1" "$registry/outpost:$2" >/dev/null
  echo "$registry/outpost@$(cat "$work/digest")"
}
from_ref=$(push "$from" from)
to_ref=$(push "$to" to)

# The store: a podman with an empty image store of its own.
mkdir -p "$store"
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/root"\nrunroot = "%s/run"\n' "$store" "$store" >"$store/storage.conf"
sent() { # bytes the registry has sent for GETs of blobs and manifests so far
  jq -R -s '[split("\n")[] | select(length > 0) | (try fromjson catch null) | select(. != null)
    | select(.msg == "response completed" and .["http.request.method"] == "GET"
      and (.["http.request.uri"] | test("/(blobs|manifests)/")))
    | .["http.response.written"] // 0] | add // 0' "$work/registry.log"
}
pull() { CONTAINERS_STORAGE_CONF=$store/storage.conf podman pull --tls-verify=false --quiet "$1" >/dev/null; }
before=$(sent); pull "$from_ref"; sleep 1; first=$(( $(sent) - before ))
before=$(sent); pull "$to_ref"; sleep 1; release=$(( $(sent) - before ))
before=$(sent); pull "$to_ref"; sleep 1; again=$(( $(sent) - before ))

# What the layers are, compressed as the registry holds them.
layers() { skopeo inspect --tls-verify=false --raw "docker://$1" | jq -r '[.layers[].size] | @csv'; }
from_layers=$(layers "$from_ref"); to_layers=$(layers "$to_ref")
say "layers (compressed bytes): $from: $from_layers; $to: $to_layers"
say "a new store pulls $from: $first bytes"
say "the release $from -> $to: $release bytes ($(awk -v a="$release" -v b="$first" 'BEGIN {printf "%.1f%%", 100 * a / b}') of a full pull; the floor is its application layer, $(echo "$to_layers" | awk -F, '{print $NF}') bytes)"
say "pulling $to again: $again bytes (a layer already pulled is not pulled again)"
mkdir -p bench-results
jq -n --arg from "$from" --arg to "$to" --argjson first "$first" --argjson release "$release" --argjson again "$again" \
  --arg fromLayers "$from_layers" --arg toLayers "$to_layers" --arg machine "$(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME")" \
  '{benchmark: "pull", at: (now | todate), machine: $machine, from: $from, to: $to, firstPullBytes: $first, releasePullBytes: $release,
    repeatPullBytes: $again, releaseShare: ($release / $first), fromLayerBytes: ($fromLayers | split(",") | map(tonumber)),
    toLayerBytes: ($toLayers | split(",") | map(tonumber))}' >bench-results/pull.json
say "written: bench-results/pull.json"
