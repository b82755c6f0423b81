#!/usr/bin/env bash
# Measures the outpost image as a store runs it: its size, the time from `podman run` to /health/ready beside the
# floor (the same image starting the runtime only: `outpost --version`), and the memory high-water mark of a store
# catching up 50,000 sales to HQ and of HQ taking them in. Writes bench-results/image.json.
#
# Usage: deploy/image/measure.sh [--image IMAGE] [--rounds N] [--sales N] [--cold]
#   --cold  drop the kernel's page cache before every start (as the first start after a boot: the image is read from disk)
# Needs: the image (deploy/image/build.sh), root, curl. Listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=deploy/image/rootfs.sh
. deploy/image/rootfs.sh
image=localhost/outpost:0.1.0 rounds=5 sales=50000 cold=false
while (($#)); do
  case "$1" in
    --image) image=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --sales) sales=$2; shift 2 ;;
    --cold) cold=true; shift ;;
    *) die "unknown argument '$1'" ;;
  esac
done
conf=$(mktemp)
printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n' >"$conf"
export CONTAINERS_CONF=$conf
podman image exists "$image" || die "no image $image: build it with deploy/image/build.sh"
now_ms() { date +%s%3N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
data_dir() { local d; d=$(mktemp -d); chown 10001:10001 "$d"; echo "$d"; }
wait_ready() { # url limit_s
  local deadline=$(($(now_ms) + $2 * 1000))
  until curl -fs "$1/health/ready" >/dev/null 2>&1; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.02
  done
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2))}'; }
peak_kib() { awk '/VmHWM/ {print $2}' "/proc/$(podman inspect --format '{{.State.Pid}}' "$1")/status"; }
run=(podman run --network=host --read-only)
dirs=()
cleanup() { podman rm -f -t 0 outpost-measure-hq outpost-measure-store >/dev/null 2>&1 || true; rm -rf "${dirs[@]}" "$conf"; }
trap cleanup EXIT

size=$(podman image inspect --format '{{.Size}}' "$image")
floors=() readies=()
drop_caches() { if $cold; then sync && echo 3 >/proc/sys/vm/drop_caches || die "--cold needs root to drop the page cache"; fi; }
for ((i = 0; i < rounds; i++)); do
  drop_caches
  t=$(now_ms); "${run[@]}" --rm "$image" --version >/dev/null; floors+=($(($(now_ms) - t)))
  d=$(data_dir); dirs+=("$d"); port=$(free_port)
  drop_caches
  t=$(now_ms)
  "${run[@]}" -d --name outpost-measure-store -v "$d:/data" "$image" store --id store-m --urls "http://127.0.0.1:$port" >/dev/null
  wait_ready "http://127.0.0.1:$port" 60 || die "the store did not become ready: $(podman logs outpost-measure-store 2>&1 | tail -5)"
  readies+=($(($(now_ms) - t)))
  podman rm -f -t 10 outpost-measure-store >/dev/null
done
floor=$(printf '%s\n' "${floors[@]}" | median)
ready=$(printf '%s\n' "${readies[@]}" | median)
say "start to ready: ${readies[*]} ms (median $ready); floor (runtime start, --version): ${floors[*]} ms (median $floor)"

# Memory: a store that sold $sales while offline catches up with HQ.
hq_port=$(free_port) store_port=$(free_port)
hq_dir=$(data_dir) store_dir=$(data_dir); dirs+=("$hq_dir" "$store_dir")
"${run[@]}" -d --name outpost-measure-hq -v "$hq_dir:/data" -e OUTPOST_ADMIN_TOKEN=measure "$image" central --data /data \
  --urls "http://127.0.0.1:$hq_port" >/dev/null
wait_ready "http://127.0.0.1:$hq_port" 60 || die "HQ did not become ready"
secret=$(curl -fs -H 'Authorization: Bearer measure' -H 'Content-Type: application/json' \
  -d '{"storeId":"store-m","region":"north"}' "http://127.0.0.1:$hq_port/admin/stores" | jq -r .secret)
"${run[@]}" -d --name outpost-measure-store -v "$store_dir:/data" -e OUTPOST_STORE_SECRET="$secret" "$image" store --id store-m \
  --urls "http://127.0.0.1:$store_port" --central "http://127.0.0.1:$hq_port/" --generate "$sales" >/dev/null
wait_ready "http://127.0.0.1:$store_port" 60 || die "the store did not become ready"
t=$(now_ms)
until podman logs outpost-measure-store 2>&1 | grep -q "generated $sales sales" \
  && [ "$(curl -fs -H 'Authorization: Bearer measure' "http://127.0.0.1:$hq_port/admin/fleet" | jq '.[0].eventsToday // 0')" -ge "$sales" ]; do
  (($(now_ms) - t < 300000)) || die "the store did not catch up within 5 minutes"
  sleep 0.5
done
catchup=$(($(now_ms) - t))
store_peak=$(peak_kib outpost-measure-store) hq_peak=$(peak_kib outpost-measure-hq)
say "image $((size / 1000000)) MB; $sales sales recorded and caught up in $catchup ms; peak memory: store $((store_peak / 1024)) MiB, HQ $((hq_peak / 1024)) MiB"
mkdir -p bench-results
jq -n --arg image "$image" --argjson cold "$cold" --argjson size "$size" --argjson ready "$ready" --argjson floor "$floor" \
  --argjson readies "[$(IFS=,; echo "${readies[*]}")]" --argjson floors "[$(IFS=,; echo "${floors[*]}")]" \
  --argjson sales "$sales" --argjson catchup "$catchup" --argjson store "$store_peak" --argjson hq "$hq_peak" \
  '{image: $image, coldPageCache: $cold, sizeBytes: $size, startToReadyMs: {median: $ready, runs: $readies}, runtimeStartMs: {median: $floor, runs: $floors},
    readyOverFloor: ($ready / $floor), catchUp: {sales: $sales, ms: $catchup}, peakResidentKiB: {store: $store, hq: $hq}}' \
  >bench-results/image.json
cat bench-results/image.json
