package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gridkeep/gridkeep/internal/namespace"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

func TestObjectErrorsSayWhatAndWhatToDo(t *testing.T) {
	data := t.TempDir()
	proxy := startNamespaceIn(t, data)
	runOn(t, proxy, "x", "put", "acct/ctr/obj", "-", "--policy", "TWOCOPIES")
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String() // a port where nothing answers
	l.Close()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"get", "acct/nope/obj"}, ExitFail,
			"get acct/nope/obj: no such container acct/nope " +
				"(create it with `gridkeep container create acct/nope`)"},
		{[]string{"ls", "acct/nope"}, ExitFail, "ls acct/nope: no such container acct/nope"},
		{[]string{"container", "show", "acct/nope"}, ExitFail, "container show acct/nope: no such container"},
		{[]string{"container", "set", "acct/nope", "--property", "a=b"}, ExitFail,
			"container set acct/nope: no such container acct/nope"},
		{[]string{"rm", "acct/nope/obj"}, ExitFail, "rm acct/nope/obj: no such container acct/nope"},
		{[]string{"ls", "nobody"}, ExitFail, "ls nobody: no such account nobody (an account is created"},
		{[]string{"stat", "acct/ctr/no such"}, ExitFail, "stat acct/ctr/no such: no such object, or its " +
			"latest version is a delete marker " +
			"(`gridkeep ls --versions 'acct/ctr/no such'` lists its versions)"},
		{[]string{"locate", "acct/ctr/obj", "--version", "5"}, ExitFail,
			"locate acct/ctr/obj: no version 5 of this object"},
		{[]string{"get", "acct/ctr/obj", "--version", "-1"}, ExitUsage, "--version -1: versions are positive"},
		{[]string{"rm", "acct/ctr/obj", "--version", "0"}, ExitUsage, "--version 0: versions are positive"},
		{[]string{"check", "object", "acct/ctr/obj", "--version", "0"}, ExitUsage,
			"--version 0: versions are positive"},
		{[]string{"put", "acct/ctr/o2", "-", "--policy", "NOPE"}, ExitUsage,
			`put acct/ctr/o2: unknown storage policy: "NOPE" (the standard ones are SINGLE, TWOCOPIES`},
		{[]string{"put", "acct/ctr/o2", "-", "--mime-type", "text/\x1b"}, ExitUsage,
			`--mime-type "text/\x1b": control characters are not allowed`},
		{[]string{"put", "acct/ctr/o2", filepath.Join(dir, "missing")}, ExitUsage,
			"cannot read " + filepath.Join(dir, "missing") + ": no such file or directory"},
		{[]string{"get", "acct/ctr/obj", "-o", filepath.Join(dir, "no", "f")}, ExitUsage,
			"cannot write " + filepath.Join(dir, "no", "f") + ": no such file or directory"},
		{[]string{"get", "acct/ctr/obj", "-o", dir}, ExitUsage, "cannot write " + dir + ": it is a directory"},
		{[]string{"container", "set", "acct/ctr"}, ExitUsage,
			"give --property, --unset, --policy, --versioning or"},
		{[]string{"container", "set", "acct/ctr", "--versioning", ""}, ExitUsage,
			"--versioning needs a value"},
		{[]string{"container", "create", "acct/c2", "--policy="}, ExitUsage, "--policy needs a value"},
		{[]string{"get", "acct/ctr/obj", "-o", ""}, ExitUsage, "--output needs a file name"},
		{[]string{"check", "--all", "--events-url", "garbage"}, ExitUsage,
			`--events-url: event bus URL "garbage": want nats://HOST:PORT`},
		{[]string{"check", "--all", "--events-url", "http://127.0.0.1:1"}, ExitUsage,
			`scheme "http", want nats, tls, ws or wss`},
		{[]string{"get", "acct/ctr/obj", "--proxy", down}, ExitFail, "get acct/ctr/obj: cannot reach the " +
			"directory at " + down + ": connect: connection refused (is `gridkeep up` running?"},
		{[]string{"ls", "acct", "--proxy", "http://bad host"}, ExitUsage,
			`--proxy "http://bad host": want the directory's URL`},
	} {
		out, code := runOn(t, proxy, "x", tt.args...)
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("%q: exit %d, want %d and %q:\n%s", tt.args, code, tt.code, tt.want, out)
		}
		if strings.Contains(out, "/v3.0/") || strings.Contains(out, "/v1.0/") {
			t.Errorf("%q: the message shows the request URL:\n%s", tt.args, out)
		}
	}
	locate, _ := runOn(t, proxy, "", "locate", "acct/ctr/obj", "--json")
	id := regexp.MustCompile(`"url":"[^"]*/([0-9A-F]{64})"`).FindStringSubmatch(locate)[1]
	filepath.WalkDir(data, func(p string, d os.DirEntry, _ error) error {
		if d != nil && d.Name() == id {
			os.Remove(p) // both copies
		}
		return nil
	})
	out, code := runOn(t, proxy, "", "get", "acct/ctr/obj")
	want := "get acct/ctr/obj: object cannot be read: every copy of metachunk 0 failed"
	if code != ExitFail || !strings.Contains(out, want) || strings.Count(out, "404 Not Found") != 2 ||
		strings.Count(out, "\n") != 1 || !strings.Contains(out, "`gridkeep check object acct/ctr/obj`") {
		t.Errorf("get of a lost chunk: exit %d, want %q, both copies on one line, what to do:\n%s",
			code, want, out)
	}
}

// A copy on a chunk server that is not running is not called lost.
func TestExplainUnservedCopy(t *testing.T) {
	r := request{op: "get", name: object.Name{Account: "a", Container: "c", Path: "o"}}
	copyErr := fmt.Errorf("chunk server %q: %w", "rawx-3", rawx.ErrNoAddress)
	err := r.explain(fmt.Errorf("%w: every copy of metachunk 0 failed: %w", object.ErrIncomplete, copyErr))
	if msg := err.Error(); !strings.Contains(msg, "not running") || strings.Contains(msg, "healthy copy") {
		t.Errorf("message %q: want the chunk server not running, no rebuild from a healthy copy", msg)
	}
}

// An object deleted while it was read is not called damaged.
func TestExplainObjectGone(t *testing.T) {
	r := request{op: "get", name: object.Name{Account: "a", Container: "c", Path: "o"}}
	err := r.explain(fmt.Errorf("get a/c/o: %w (every copy of metachunk 1 failed: 404)", object.ErrGone))
	if msg := err.Error(); !strings.Contains(msg, "deleted while it was read") || strings.Contains(msg, "rebuild") {
		t.Errorf("message %q: want the object deleted meanwhile, no rebuild", msg)
	}
}

// A --proxy that names a chunk server, or another server that answers
// without a reason, is told by the status it replied, as maybe no
// directory at all; one that names the reverse index, by its lack of a
// route.
func TestNotADirectorySaysWhatItReplied(t *testing.T) {
	ns, err := namespace.Start(context.Background(), namespace.Options{Data: t.TempDir(), PortBase: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	chunkServer := "http://" + ns.Rawx[0].Addr
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	empty404 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	}))
	defer empty404.Close()
	for _, tc := range []struct {
		proxy, want string
		args        []string
	}{
		{chunkServer, "ls acct: " + chunkServer + " replied 400 Bad Request, with no reason",
			[]string{"ls", "acct"}},
		{chunkServer, "get acct/ctr/o: " + chunkServer + " replied 400 Bad Request, with no reason",
			[]string{"get", "acct/ctr/o"}},
		{empty404.URL, "ls acct/ctr: " + empty404.URL + " replied 404 Not Found, with no reason",
			[]string{"ls", "acct/ctr"}},
	} {
		out, _ := run(t, "", append(tc.args, "--proxy", tc.proxy)...)
		if !strings.Contains(out, tc.want) ||
			!strings.Contains(out, "may not be a gridkeep or OpenIO directory") {
			t.Errorf("%q --proxy %s: %s, want %q", tc.args, tc.proxy, out, tc.want)
		}
	}
	// The reverse index replies to a directory's routes with OpenIO's
	// generic 404: no route, not a missing object.
	for _, args := range [][]string{{"put", "acct/ctr/x", "-"}, {"ls", "acct"}, {"ls", "acct/ctr"},
		{"get", "acct/ctr/x"}, {"stat", "acct/ctr/x"}, {"rm", "acct/ctr/x"},
		{"container", "show", "acct/ctr"}} {
		out, code := run(t, "data", append(args, "--proxy", ns.RdirURL)...)
		if code != ExitUsage || !strings.Contains(out, ns.RdirURL+" has no route for this request") ||
			!strings.Contains(out, "may not be a gridkeep or OpenIO directory") ||
			strings.Contains(out, "no such") {
			t.Errorf("%q --proxy the reverse index: exit %d: %s", args, code, out)
		}
	}
	// A reply with a reason is shown as it is, if not from a directory.
	out, _ := run(t, "", "ls", "acct", "--proxy", notFound.URL)
	if !strings.Contains(out, "404 page not found") || strings.Contains(out, "no reason") {
		t.Errorf("ls of a server that says why: %s", out)
	}
}

// TestExplainSaysWhatAPutLeft: the chunks a failed put could not delete
// are named whatever else the message explains, an interrupt included.
func TestExplainSaysWhatAPutLeft(t *testing.T) {
	left := &object.LeftChunks{N: 3, Err: errors.New("connection refused")}
	r := request{op: "put", name: object.Name{Account: "a", Container: "c", Path: "o"},
		proxy: "http://127.0.0.1:1"}
	for _, cause := range []error{context.Canceled, fmt.Errorf("%w: a copy failed", object.ErrIncomplete)} {
		err := r.explain(fmt.Errorf("put a/c/o: %w", errors.Join(cause, left)))
		if msg := err.Error(); strings.Count(msg, "3 chunks written could not be deleted") != 1 {
			t.Errorf("%v: message %q does not say once what was left", cause, msg)
		}
	}
}
