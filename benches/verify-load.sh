#!/bin/sh
# Load on the public verification page, /v/<code>, over loopback with wrk:
# requests per second and latency percentiles. Release build; run it on a
# quiet machine. Needs wrk (Debian package «wrk»).
#
#   benches/verify-load.sh [seconds] [connections]
set -eu
seconds=${1:-15}
connections=${2:-64}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
sello="$root/target/release/sello"
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
# wrk is a single client address: the per-address limit is turned off to
# measure the lookups themselves (with it, all but the first few get 429).
export SELLO_FORMS_DIR="$root/forms" SELLO_DATA_DIR="$work/data" SELLO_LISTEN=127.0.0.1:8091
export SELLO_LOOKUPS_PER_MINUTE=0
code=$("$sello" issue oficio-comision --data "$root/forms/oficio-comision/example.json" 2>/dev/null)
"$sello" serve 2>/dev/null &
server=$!
sleep 1
echo "valid code:"
wrk -t2 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:8091/v/$code"
echo "unknown code:"
wrk -t2 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:8091/v/0000-0000-0000-0000-0000-0000-000"
