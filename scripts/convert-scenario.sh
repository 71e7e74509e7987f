#!/usr/bin/env bash
# Runs the acceptance scenario of `gridkeep convert` at full size: a namespace
# whose chunk server writes every chunk (default 20,000), turned into a mix of
# every legacy era with hard links, orphans and chunks that lost their
# fullpath; then a dry run, a run killed with SIGKILL at a random moment, a
# run to the end, the checks of every chunk against the directory, and the
# restore of the backups with setfattr. ./scripts/test.sh runs the same test
# at CI size.
#
#   ./scripts/convert-scenario.sh [CHUNKS [CHUNKS_THROUGH_THE_CHUNK_SERVER]]
#
# CHUNKS is at least 100, enough for every kind of chunk the scenario makes.
set -euo pipefail
cd "$(dirname "$0")/.."

chunks=${1:-20000}
put=${2:-$chunks}
for n in "$chunks" "$put"; do
	if ! [[ $n =~ ^[0-9]+$ ]]; then
		echo "usage: $0 [CHUNKS [CHUNKS_THROUGH_THE_CHUNK_SERVER]]: $n is not a number of chunks" >&2
		exit 2
	fi
done
if ((chunks < 100)); then
	echo "$0: $chunks chunks: the scenario needs at least 100" >&2
	exit 2
fi
if ! command -v setfattr >/dev/null; then
	echo "setfattr is missing: install the attr package (./scripts/test.sh does)" >&2
	exit 2
fi
echo "== convert scenario: $chunks chunks, $put through the chunk server ($(uptime))"
GRIDKEEP_CONVERT_SCENARIO_CHUNKS=$chunks GRIDKEEP_CONVERT_SCENARIO_PUT_CHUNKS=$put \
	go test -count=1 -timeout 3h -run '^TestScenario$' -v ./internal/convert/
