#!/usr/bin/env bash
# Runs every test project of Outpost, installing what the tests need when it is missing.
# Ends with one line of totals over all test projects: "N passed, N failed, N skipped".
# Exit code: 0 only when tests ran and none failed.
set -uo pipefail
cd "$(dirname "$0")"

say() { printf '%s\n' "$*" >&2; }

if ! command -v dotnet >/dev/null 2>&1; then
  say "test.sh: the .NET SDK 10 is required (https://dot.net): 'dotnet' is not on PATH."
  exit 2
fi

# Components the tests use, installed when missing (Debian package names).
need_packages=()
[ -e /usr/share/zoneinfo/Europe/Paris ] || need_packages+=(tzdata)   # store-local time in the pricing tests
[ -x /usr/bin/chromium ] || need_packages+=(chromium)                  # the browser tests (Playwright drives Debian's Chromium)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_packages+=(postgresql-15)  # HQ on PostgreSQL: the tests start a throwaway server
for tool in podman buildah runc jq skopeo; do                           # the container tests build and run the images
  command -v "$tool" >/dev/null 2>&1 || need_packages+=("$tool")
done
[ -x /usr/bin/docker-registry ] || need_packages+=(docker-registry)     # ... and push them to a real registry
[ -x /usr/bin/afl-fuzz ] || need_packages+=(afl++)                      # the fuzz tests drive SharpFuzz-instrumented parsers with afl-fuzz
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || need_packages+=(faketime)  # simulated stores run as processes with wrong machine clocks
[ -x /usr/sbin/mosquitto ] || need_packages+=(mosquitto)              # the store's MQTT bridge talks to a real broker
command -v node >/dev/null 2>&1 || need_packages+=(nodejs)             # a service written in JavaScript uses the store's event API
[ -x /usr/bin/prometheus ] || need_packages+=(prometheus)               # the shipped alert rules, scraped and evaluated for real ...
[ -x /usr/bin/prometheus-alertmanager ] || need_packages+=(prometheus-alertmanager)  # ... and routed by Alertmanager to a webhook
if ((${#need_packages[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "test.sh: installing ${need_packages[*]}"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null \
      || { say "test.sh: could not install ${need_packages[*]}; install them with: apt-get install -y ${need_packages[*]}"; exit 2; }
  else
    say "test.sh: missing ${need_packages[*]}; install them with: sudo apt-get install -y ${need_packages[*]}"
    exit 2
  fi
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if ! dotnet build Outpost.slnx -c Release -nologo -clp:NoSummary >"$log" 2>&1; then
  cat "$log"
  say "test.sh: the build failed (see above)."
  echo "0 passed, 1 failed"
  exit 1
fi

dotnet test --solution Outpost.slnx -c Release --no-build 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# The Microsoft.Testing.Platform summary: "total: N", "failed: N", "succeeded: N", "skipped: N".
num() { grep -E "^\s*$1: [0-9]+" "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0; }
total=$(num total); failed=$(num failed); passed=$(num succeeded); skipped=$(num skipped)

# A failed test's captured output can run to thousands of lines; repeat each failure's name, message and first
# stack frames here, next to the totals, so that the end of the output says what failed.
if [ "$failed" -ne 0 ]; then
  echo
  echo "Failed tests (the full output of each is above):"
  awk '
    /^failed / { shown = 1; frames = 0; lines = 0; print; next }
    shown {
      if ($0 ~ /^[^ ]/ || $0 ~ /Standard output|Standard error/) { shown = 0; print ""; next }
      if ($0 ~ /^ +at /) { if (++frames > 3) { shown = 0; print ""; next } }
      if (++lines > 25) { shown = 0; print ""; next }
      print
    }
  ' "$log"
fi

echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$total" -eq 0 ]; then
  say "test.sh: no test ran."
  exit 1
fi
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
  exit 1
fi
exit 0
