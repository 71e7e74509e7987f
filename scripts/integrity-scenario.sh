#!/usr/bin/env bash
# The integrity acceptance scenario at full size, with the gridkeep binary:
# a namespace from "gridkeep up" with OBJECTS objects (default 1200) over
# several containers, sizes from 0 bytes to several metachunks; then
# damage: chunk files deleted, bytes flipped in place, a fullpath attribute
# removed, a wrong size attribute, a directory entry pointing at a chunk
# server without the chunk, an orphan chunk, every copy of one object
# deleted. "check --all --checksum" must report exactly the damaged items;
# "rebuild" must repair all but the irreparable object; a second check must
# find only that object.
#
# Needs: go, curl, jq, setfattr (Debian package attr), sha256sum.
# Environment: OBJECTS, PORT_BASE (default 17400; the namespace listens on
# 127.0.0.1 from there), KEEP=1 keeps the data directory.
# Exit code 0 when the scenario passes, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

OBJECTS=${OBJECTS:-1200}
PORT_BASE=${PORT_BASE:-17400}
CHUNK_SIZE=65536
work=$(mktemp -d "${TMPDIR:-/tmp}/gridkeep-scenario.XXXXXX")
gk="$work/gridkeep"
export GRIDKEEP_PROXY="http://127.0.0.1:$PORT_BASE"
up_pid=

cleanup() {
	if [ -n "$up_pid" ]; then
		kill "$up_pid" 2>/dev/null || true
		wait "$up_pid" 2>/dev/null || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "data kept in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

step() { printf '\n== %s (%ds)\n' "$*" "$SECONDS"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

step "build"
go build -o "$gk" ./cmd/gridkeep

step "start a namespace of 4 chunk servers on 127.0.0.1:$PORT_BASE"
"$gk" up --data "$work/data" --port-base "$PORT_BASE" --rawx 4 --chunk-size $CHUNK_SIZE \
	>"$work/up.log" 2>&1 &
up_pid=$!
for _ in $(seq 100); do
	curl -sf "$GRIDKEEP_PROXY/v3.0/OPENIO/conscience/list?type=rawx" >/dev/null && break
	sleep 0.2
done
curl -sf "$GRIDKEEP_PROXY/v3.0/OPENIO/conscience/list?type=rawx" >/dev/null ||
	fail "the namespace did not start: $(tail -5 "$work/up.log")"
rdir="http://127.0.0.1:$((PORT_BASE + 1))"

step "write $OBJECTS objects"
sizes=(0 1 1000 $((CHUNK_SIZE - 1)) $CHUNK_SIZE $((CHUNK_SIZE + 1)) $((3 * CHUNK_SIZE + 77)) 5000)
policies=(THREECOPIES TWOCOPIES SINGLE TWOCOPIES)
mkdir -p "$work/src"
for i in "${!sizes[@]}"; do
	head -c "${sizes[$i]}" /dev/urandom >"$work/src/$i"
done
for i in $(seq 0 $((OBJECTS - 1))); do
	printf '%s %s acct/ctr-%d/dir-%d/obj-%05d\n' "${policies[$((i % 4))]}" \
		"$work/src/$((i % 8))" $((i % 6)) $((i % 7)) "$i"
done | xargs -P 8 -L 1 sh -c '"$0" put --policy "$1" "$3" "$2" >/dev/null' "$gk"

# chunks_on VOLUME counts the chunk files of a volume.
chunks_on() { find "$1" -path "$1/non_optimal_placement" -prune -o -type f -regextype egrep \
	-regex '.*/[0-9A-F]{24,64}' -print | wc -l; }
# indexed VOLUME_ID counts the volume's reverse index records.
indexed() { curl -sf "$rdir/v1/rdir/status?vol=$1" | jq '.chunk.total'; }
# wait_indexed waits until every volume's index counts its chunk files.
wait_indexed() {
	for _ in $(seq 300); do
		local ok=1
		for n in 1 2 3 4; do
			[ "$(indexed rawx-$n)" = "$(chunks_on "$work/data/rawx-$n")" ] || ok=0
		done
		[ $ok = 1 ] && return 0
		sleep 0.2
	done
	fail "the reverse index never caught up"
}
wait_indexed

step "check the clean namespace"
"$gk" check --all --checksum --json --errors-only >"$work/clean.json" 2>"$work/clean.txt" ||
	{ cat "$work/clean.json"; fail "the clean namespace has problems"; }
grep -E 'Chunks checked|Objects checked|Elapsed' "$work/clean.txt"

# locate NAME prints the object's chunks as "url real_url pos size hash".
locate() { "$gk" locate --json "$1" | jq -r '.chunks[] | "\(.url) \(.real_url) \(.pos) \(.size) \(.hash)"'; }
# path URL prints the file of a chunk.
path() {
	local svc=${1#http://} id=${1##*/}
	svc=${svc%%/*}
	echo "$work/data/$svc/${id:0:3}/$id"
}
# pick POLICY MINCHUNKS sets name to an object with that policy, data, and
# at least MINCHUNKS chunks, not picked before.
picked=" "
pick() {
	local i
	for i in $(seq 0 $((OBJECTS - 1))); do
		[ "${policies[$((i % 4))]}" = "$1" ] || continue
		[ "${sizes[$((i % 8))]}" -gt 0 ] || continue
		name=$(printf 'acct/ctr-%d/dir-%d/obj-%05d' $((i % 6)) $((i % 7)) "$i")
		case "$picked" in *" $name "*) continue ;; esac
		[ "$(locate "$name" | wc -l)" -ge "$2" ] || continue
		picked="$picked$name "
		return
	done
	fail "no $1 object with $2 chunks left"
}
expect() { printf '%s %s\n' "$1" "$2" >>"$work/want.txt"; }
: >"$work/want.txt"

step "damage"
pick THREECOPIES 3
read -r url _ <<<"$(locate "$name" | head -1)"
rm "$(path "$url")"
expect chunk "$url"; expect object "$name"
echo "deleted $url"

pick TWOCOPIES 2
read -r url _ <<<"$(locate "$name" | sed -n 2p)"
file=$(path "$url")
printf '\xff' | dd of="$file" bs=1 seek=$(($(stat -c %s "$file") / 2)) conv=notrunc status=none
expect chunk "$url"; expect object "$name"
echo "flipped a byte of $url"

pick THREECOPIES 3
read -r url _ <<<"$(locate "$name" | tail -1)"
setfattr -x "user.oio.content.fullpath:${url##*/}" "$(path "$url")"
expect chunk "$url"; expect object "$name"
echo "removed the fullpath attribute of $url"

pick TWOCOPIES 2
read -r url _ _ size _ <<<"$(locate "$name" | head -1)"
setfattr -n user.grid.chunk.size -v $((size + 1)) "$(path "$url")"
expect chunk "$url"; expect object "$name"
echo "set a wrong size attribute on $url"

# A directory entry moved to a chunk server without the chunk; the copy is
# deleted, so that the entry points at nothing.
pick TWOCOPIES 2
read -r url real pos size hash <<<"$(locate "$name" | head -1)"
holders=$(locate "$name" | awk -v p="$pos" '$3 == p {print $1}')
for n in 1 2 3 4; do
	grep -q "//rawx-$n/" <<<"$holders" || { spare="http://rawx-$n/${url##*/}"; break; }
done
acct=${name%%/*}; rest=${name#*/}; ctr=${rest%%/*}
cid=$(printf '%s\0%s' "$acct" "$ctr" | sha256sum | cut -c1-64 | tr a-f A-F)
content=$("$gk" locate --json "$name" | jq -r .content_id)
bean() { jq -nc --arg id "$1" --arg pos "$pos" --argjson size "$size" --arg hash "$hash" \
	--arg content "$content" '{id: $id, pos: $pos, size: $size, hash: $hash, content: $content}'; }
curl -sf -X POST "$GRIDKEEP_PROXY/v3.0/OPENIO/container/raw_update?cid=$cid" \
	-d "{\"old\": [$(bean "$url")], \"new\": [$(bean "$spare")]}" || fail "raw_update refused"
curl -sf -X DELETE "$real" || fail "delete $real"
expect chunk "$spare"; expect object "$name"
echo "moved the entry $url to $spare, where there is no such chunk"

# An orphan: one chunk of an upload never committed, two hours old.
orphan_id=$(head -c 32 /dev/urandom | sha256sum | cut -c1-64 | tr a-f A-F)
rawx1=$(curl -sf "$GRIDKEEP_PROXY/v3.0/OPENIO/conscience/resolve?type=rawx&service_id=rawx-1" |
	jq -r .addr)
curl -sf -X PUT "http://$rawx1/$orphan_id" --data-binary 'half of an upload' \
	-H "X-oio-Chunk-Meta-Full-Path: acct/ctr-0/never%20committed/1700000000000000/0123456789ABCDEF0123456789ABCDEF" \
	-H 'X-oio-Chunk-Meta-Content-Storage-Policy: TWOCOPIES' \
	-H 'X-oio-Chunk-Meta-Content-Chunk-Method: plain/cca=blake3,nb_copy=2' \
	-H 'X-oio-Chunk-Meta-Chunk-Pos: 0' >/dev/null || fail "orphan upload"
touch -d '2 hours ago' "$(path "http://rawx-1/$orphan_id")"
expect chunk "http://rawx-1/$orphan_id"
echo "left an orphan http://rawx-1/$orphan_id"

pick SINGLE 2
irreparable=$name
while read -r url _; do
	rm "$(path "$url")"
	expect chunk "$url"
	echo "chunk $url" >>"$work/irreparable.txt"
done < <(locate "$name")
expect object "$name"
echo "object $name" >>"$work/irreparable.txt"
echo "deleted every copy of $name"
sleep 1 # let the chunk events of the deletions reach the reverse index

# items FILE prints the "type item" of the problems of a JSON check output.
items() { jq -r 'select(.status == "error") | "\(.type) \(.item)"' "$1" | sort -u; }

step "check --all --checksum"
set +e
"$gk" check --all --checksum --json --errors-only -o "$work/errors.txt" \
	--output-for-chunk-rebuild "$work/rebuild.txt" >"$work/check1.json" 2>"$work/check1.txt"
rc=$?
set -e
[ $rc = 1 ] || fail "check exit code $rc, want 1: $(cat "$work/check1.txt")"
grep -E 'checked|Orphan|Irreparable|Elapsed|Problems' "$work/check1.txt"
diff <(sort -u "$work/want.txt") <(items "$work/check1.json") ||
	fail "the check did not report exactly the damage (- wanted, + reported)"
echo "reported exactly the $(sort -u "$work/want.txt" | wc -l) damaged items"

step "rebuild --input-file"
set +e
"$gk" rebuild --input-file "$work/rebuild.txt" --concurrency 4 >"$work/rebuild.out" \
	2>"$work/rebuild.err"
rc=$?
set -e
cat "$work/rebuild.out"
cat "$work/rebuild.err"
[ $rc = 1 ] || fail "rebuild exit code $rc, want 1 (irreparable entries)"
grep -q '^Failed *: 0$' "$work/rebuild.err" || fail "some entries failed"

step "check --all --checksum again"
set +e
"$gk" check --all --checksum --json --errors-only >"$work/check2.json" 2>"$work/check2.txt"
rc=$?
set -e
[ $rc = 1 ] || fail "second check exit code $rc, want 1"
diff <(sort -u "$work/irreparable.txt") <(items "$work/check2.json") ||
	fail "the second check found more than the irreparable object $irreparable"
echo "only the irreparable object $irreparable is left"

step "the error file fed back"
set +e
"$gk" check --from-file "$work/errors.txt" --checksum --json --errors-only \
	>"$work/check3.json" 2>/dev/null
set -e
diff <(sort -u "$work/irreparable.txt") <(items "$work/check3.json") ||
	fail "checking the error file again disagrees"

step "PASS"
