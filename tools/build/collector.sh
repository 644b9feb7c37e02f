#!/usr/bin/env bash
# Builds the collector distribution of builder-config.yaml (make build), saying what it does and how
# far along it is: ocb writes the sources and fetches the modules (a first build downloads some 245
# modules), then `go build -v` compiles, counted against the packages Go says are not built yet
# (a line every twentieth).
# The compile step is ocb's own (same flags: -trimpath, -ldflags '-s -w', cgo off), run here so
# that its progress shows.
#
#   tools/build/collector.sh OCB BUILDER_CONFIG DIST_DIR BINARY_NAME
set -euo pipefail
ocb=$1 config=$2 dist=$3 name=$4
GO=${GO:-go}
log=$dist/ocb.log
start=$(date +%s)
elapsed() { echo "$(($(date +%s) - start))s"; }
mkdir -p "$dist"

echo "[1/3] ocb: writing the distribution's sources into $dist and fetching its modules (go mod tidy, go mod download)"
downloads=$($GO env GOMODCACHE)/cache/download
modules() { find "$downloads" -name '*.zip' 2>/dev/null | wc -l; }
before=$(modules)
# GOFLAGS=-e: ocb's `go mod tidy` also resolves the test imports of every component, and
# fileexporter's tests import a module that is not served; -e lets tidy skip it (the build needs
# nothing missing).
GOFLAGS="${GOFLAGS:-} -e" "$ocb" --config "$config" --skip-compilation >"$log" 2>&1 &
ocb_pid=$!
trap 'kill $ocb_pid 2>/dev/null || true' EXIT
ticks=0
while kill -0 "$ocb_pid" 2>/dev/null; do
	sleep 1
	ticks=$((ticks + 1))
	if ((ticks % 10 == 0)) && kill -0 "$ocb_pid" 2>/dev/null; then
		echo "      $(($(modules) - before)) modules downloaded so far ($(elapsed))"
	fi
done
if ! wait "$ocb_pid"; then
	cat "$log"
	echo "ocb failed (its log is above, and in $log)" >&2
	exit 1
fi
trap - EXIT
echo "      sources written, $(($(modules) - before)) modules downloaded ($(elapsed))"
gofmt -w "$dist"/*.go

cd "$dist"
export CGO_ENABLED=0
echo "[2/3] counting the packages to compile"
flags=(-trimpath -ldflags='-s -w' -gcflags='')
total=$($GO list "${flags[@]}" -deps -f '{{if .Stale}}stale{{end}}' . | grep -c stale || true)
echo "      $total of $($GO list "${flags[@]}" -deps . | wc -l) packages are not compiled yet ($(elapsed))"

echo "[3/3] compiling $name ($total packages)"
# go build -v names each package as it compiles it; anything else it prints is an error, shown as is.
$GO build -v "${flags[@]}" -o "$name" . 2>&1 |
	awk -v total="$total" '
		/^[^ ]+$/ && !/:/ {
			n++
			if (total > 0 && (n == total || int(n * 20 / total) > shown)) {
				shown = int(n * 20 / total)
				printf "      compiled %d of %d packages (%d%%): %s\n", n, total, n * 100 / total, $0
				last = n
				fflush()
			}
			next
		}
		{ print; fflush() }
		END { if (n != last) printf "      compiled %d packages\n", n }'
echo "built $dist/$name in $(elapsed)"
