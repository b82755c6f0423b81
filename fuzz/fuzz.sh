#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers that face the network or files (docs/security.md), with afl-fuzz (AFL++,
# Debian's afl++) driving SharpFuzz-instrumented Outpost assemblies.
#   fuzz/fuzz.sh [--seconds 300] [--targets "batch event scenario catalog-csv device-json"] [--json bench-results/fuzz.json]
# Each target starts from its seeds and from every input that once failed (fuzz/regressions/<target>/); a new
# crash or hang is copied there, so that the replay test keeps it for ever. Prints per target the inputs tried, the
# rate beside the parser's own rate (the same harness replaying the corpus in process, uninstrumented), the paths
# found, crashes and hangs; writes the JSON. Exit 1 when any crash or hang was found.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=300
targets="batch event scenario catalog-csv device-json"
json=bench-results/fuzz.json
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

command -v afl-fuzz >/dev/null || { echo "fuzz.sh: needs afl-fuzz: apt-get install -y afl++" >&2; exit 2; }
tools=${OUTPOST_FUZZ_TOOLS:-$HOME/.cache/outpost-fuzz-tools}
if [ ! -x "$tools/sharpfuzz" ]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >/dev/null \
    || { echo "fuzz.sh: could not install the sharpfuzz tool (dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path $tools)" >&2; exit 2; }
fi

work=$(mktemp -d /tmp/outpost-fuzz.XXXXXX)
dotnet publish fuzz/Outpost.Fuzz -c Release -o "$work/plain" -nologo -v q >"$work/publish.log" 2>&1 || { cat "$work/publish.log"; exit 2; }
cp -r "$work/plain" "$work/bin"
# Only Outpost's own assemblies are instrumented: the harness, SharpFuzz and the framework are not what is tested.
# The plain copy writes the seeds and measures the parsers' own rate.
for dll in "$work"/bin/Outpost.*.dll; do
  "$tools/sharpfuzz" "$dll" >/dev/null || { echo "fuzz.sh: sharpfuzz could not instrument $dll" >&2; exit 2; }
done
dotnet "$work/plain/outpost-fuzz.dll" --seeds "$work/seeds" || { echo "fuzz.sh: the seeds could not be written" >&2; exit 2; }

export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_QUIET=1
export DOTNET_TieredPGO=0 DOTNET_gcServer=0
found=0
rows=()
stat() { grep -E "^$1 +:" "$2" | head -1 | sed -E 's/^[^:]+: *//; s/%//'; }
for target in $targets; do
  mkdir -p "$work/seeds/$target" "$work/out"
  [ -d "fuzz/regressions/$target" ] && cp -r "fuzz/regressions/$target/." "$work/seeds/$target/"
  timeout $((seconds + 120)) afl-fuzz -i "$work/seeds/$target" -o "$work/out/$target" -V "$seconds" -t 5000 -m none \
    -- "$(command -v dotnet)" "$work/bin/outpost-fuzz.dll" "$target" >"$work/$target.log" 2>&1
  stats="$work/out/$target/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    echo "fuzz.sh: afl-fuzz did not run $target; its output:" >&2; tail -30 "$work/$target.log" >&2; exit 2
  fi
  execs=$(stat execs_done "$stats"); rate=$(stat execs_per_sec "$stats"); paths=$(stat corpus_count "$stats")
  crashes=$(stat saved_crashes "$stats"); hangs=$(stat saved_hangs "$stats"); coverage=$(stat bitmap_cvg "$stats")
  for kind in crashes hangs; do
    for input in "$work/out/$target/default/$kind"/id*; do
      [ -f "$input" ] || continue
      mkdir -p "fuzz/regressions/$target"
      cp "$input" "fuzz/regressions/$target/$kind-$(sha256sum "$input" | cut -c1-16)"
    done
  done
  # The parser's own rate: the corpus afl-fuzz built, replayed in process by the uninstrumented harness.
  own=$(dotnet "$work/plain/outpost-fuzz.dll" "$target" --replay "$work/out/$target/default/queue" --rate | sed -nE 's/^rate: ([0-9]+) a second/\1/p')
  [ -n "$own" ] && ((own > 0)) || own=1
  echo "$target: $execs inputs in ${seconds} s, $rate a second (the parser alone, in process: $own a second; ratio $(awk "BEGIN{printf \"%.3f\", $rate/$own}")), $paths paths, coverage $coverage %, crashes $crashes, hangs $hangs"
  rows+=("{\"target\":\"$target\",\"seconds\":$seconds,\"inputs\":$execs,\"perSecond\":$rate,\"parserAlonePerSecond\":$own,\"paths\":$paths,\"coveragePercent\":$coverage,\"crashes\":$crashes,\"hangs\":$hangs}")
  ((crashes + hangs > 0)) && found=1
done

mkdir -p "$(dirname "$json")"
(IFS=,; echo "{\"benchmark\":\"fuzz\",\"fuzzer\":\"afl-fuzz $(afl-fuzz -h 2>&1 | grep -oE '\+\+[0-9.a-z]+' | head -1) with SharpFuzz 2.3.0\",\"targets\":[${rows[*]}]}") >"$json"
echo "written: $json"
[ -n "${OUTPOST_FUZZ_KEEP:-}" ] || rm -rf "$work"
exit $found
