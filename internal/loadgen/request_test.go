package loadgen

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestContainerID(t *testing.T) {
	// The container of the reference volume written by OpenIO's rawx.
	const want = "2886FD946717E2413226873197D9BE46259AEC71BC3629A7FDE50E7FA6FBE315"
	if got := containerID("acct1", "ctr1"); got != want {
		t.Errorf("containerID = %s, want %s", got, want)
	}
}

func isUpperHex(s string) bool {
	return strings.Trim(s, "0123456789ABCDEF") == ""
}

func TestNamer(t *testing.T) {
	a, err := newNamer()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := newNamer()
	seen := map[string]bool{}
	for _, n := range []*namer{a, b} {
		for range 100 {
			c := n.next()
			if len(c.id) != 64 || !isUpperHex(c.id) || len(c.contentID) != 32 || !isUpperHex(c.contentID) {
				t.Fatalf("chunk %+v: want 64 and 32 uppercase hex digits", c)
			}
			if seen[c.id] {
				t.Fatalf("chunk id %s handed out twice", c.id)
			}
			seen[c.id] = true
		}
	}
}

func TestPutHeaders(t *testing.T) {
	n, _ := newNamer()
	c := n.next()
	h := n.putHeaders(c)
	fields := strings.Split(h.Get(hdrFullPath), "/")
	want := []string{benchAccount, benchContainer, c.path, n.version, c.contentID}
	if strings.Join(fields, "|") != strings.Join(want, "|") {
		t.Errorf("fullpath fields %q, want %q", fields, want)
	}
	for k, v := range map[string]string{hdrChunkMethod: "plain/cca=blake3,nb_copy=1",
		hdrStoragePolicy: "SINGLE", hdrChunkPos: "0", hdrChunkID: c.id,
		hdrContainerID: containerID(benchAccount, benchContainer)} {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	r := &Result{Op: OpGet, Size: 1 << 20, Concurrency: 2, Elapsed: 2 * time.Second,
		Requests: 12, OK: 10, Cut: 2, Bytes: 10 << 20, Errors: map[string]int64{"404": 2},
		Latency:   Latencies{P50: time.Millisecond, Max: 3 * time.Millisecond},
		ServerPID: 7, ServerCPU: 1200 * time.Microsecond,
		Cleanup: Cleanup{Removed: 5, RemovedUnacknowledged: 2, NotRemoved: 1, MaybeLeft: 3}}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
		t.Errorf("not one line: %q", buf.String())
	}
	var got jsonResult
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.ReqPerS != 5 || got.Errors != 2 || got.ErrorsBy["404"] != 2 || got.LatencyMS.Max != 3 ||
		got.Cut != 2 {
		t.Errorf("decoded %+v", got)
	}
	if got.Removed != 5 || got.RemovedUnack != 2 || got.NotRemoved != 1 || got.MaybeLeft != 3 {
		t.Errorf("decoded chunks %d removed (%d unacknowledged), %d not, %d maybe left; want 5 (2), "+
			"1, 3", got.Removed, got.RemovedUnack, got.NotRemoved, got.MaybeLeft)
	}
	if got.ServerCPUUS == nil || *got.ServerCPUUS != 100 {
		t.Errorf("server cpu per request %v, want 100 µs", got.ServerCPUUS)
	}
}

func TestWriteText(t *testing.T) {
	r := &Result{Op: OpPut, Size: 4 << 10, Concurrency: 16, Elapsed: time.Second,
		Requests: 3, OK: 1, Cut: 4, Errors: map[string]int64{"500": 1, ErrTransport: 1},
		Cleanup: Cleanup{Removed: 5, RemovedUnacknowledged: 2, NotRemoved: 1, MaybeLeft: 3}}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"put 4 KiB, 16 workers", "3 (1 ok, 2 failed)",
		"errors    500: 1, transport: 1", "cut       4 in flight at the end",
		"chunks    after the run, 5 deleted (2 from failed or cut uploads), 1 could not be, " +
			"3 failed or cut uploads may have left theirs\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, buf.String())
		}
	}
	if strings.Contains(buf.String(), "server") || strings.Contains(buf.String(), "pool") {
		t.Errorf("server or pool line without a server pid or a pool:\n%s", buf.String())
	}

	r = &Result{Op: OpGet, Size: 4 << 10, Concurrency: 16, Objects: 7, PoolInterrupted: true}
	buf.Reset()
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"get 4 KiB, 16 workers, nothing measured,",
		"pool      7 chunks uploaded, then interrupted: no load was sent\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, buf.String())
		}
	}
	if strings.Contains(buf.String(), "warmup") {
		t.Errorf("an interrupted read pool tells of a warmup:\n%s", buf.String())
	}
}
