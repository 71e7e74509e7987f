#!/usr/bin/env bash
# Runs every gridkeep test on a fresh Debian machine: installs what the tests
# need, checks formatting and vet, runs the unit and integration tests, and
# compiles the benchmark module. Run it from anywhere: ./scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(attr)
missing=()
for p in "${apt_packages[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "== installing Debian packages: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The reference volume written by the real OpenIO chunk server, when it sits
# beside the checkout; the tests that read it say so when it is absent.
if [ -z "${GRIDKEEP_OIO_REFERENCE:-}" ] && [ -d ../shared/reference/oio-rawx-volume ]; then
	GRIDKEEP_OIO_REFERENCE=$(cd ../shared/reference/oio-rawx-volume && pwd)
	export GRIDKEEP_OIO_REFERENCE
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test"
go test -count=1 -timeout 30m ./...

echo "== go test -race"
go test -race -count=1 -timeout 30m ./...

if [ -d bench ]; then
	echo "== bench module (compile and one iteration)"
	(cd bench && go vet ./... && go test -count=1 -run '^$' -bench . -benchtime 1x ./...)
fi
