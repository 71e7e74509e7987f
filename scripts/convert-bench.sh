#!/usr/bin/env bash
# Measures `gridkeep convert` against ceilings measured in the same run on the
# same volume of legacy chunks (default 200,000, kept between runs under the
# system temporary directory because mass file creation and deletion slow some
# filesystems down): warm page cache with and without backups, then (as root)
# cold caches. Prints the load average with the figures, since other work on
# the machine changes them.
#
#   ./scripts/convert-bench.sh [CHUNKS]
set -euo pipefail
cd "$(dirname "$0")/.."

export GRIDKEEP_CONVERT_BENCH_CHUNKS=${1:-200000}
echo "== $(uptime)"
go test -count=1 -timeout 2h -run '^$' -bench '^BenchmarkConvertVolume$' -benchtime 1x \
	./internal/convert/
echo "== $(uptime)"
