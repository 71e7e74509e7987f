package rawx

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/chunk/chunktest"
)

// exchange is one request and reply of the recorded transcript.
type exchange struct {
	title    string
	request  []string // request line then headers
	bodyLen  int      // chunked body length, -1 if none
	trailers []string
	status   int
	headers  http.Header
	body     string
}

func parseTranscript(t *testing.T, text string) []exchange {
	t.Helper()
	var out []exchange
	bodyRE := regexp.MustCompile(`\[chunked body: (\d+) bytes`)
	for _, sec := range strings.Split(text, "######## ")[1:] {
		lines := strings.Split(sec, "\n")
		ex := exchange{title: lines[0], bodyLen: -1, headers: http.Header{}}
		inReply, inBody := false, false
		for _, l := range lines[1:] {
			switch {
			case strings.HasPrefix(l, "> "):
				l = strings.TrimPrefix(l, "> ")
				switch {
				case bodyRE.MatchString(l):
					ex.bodyLen, _ = strconv.Atoi(bodyRE.FindStringSubmatch(l)[1])
				case strings.HasSuffix(l, "(TRAILER)"):
					trailer := strings.TrimSpace(strings.TrimSuffix(l, "(TRAILER)"))
					ex.trailers = append(ex.trailers, trailer)
				case l != "" && l != "0":
					ex.request = append(ex.request, l)
				}
			case strings.HasPrefix(l, "< HTTP/1.1 "):
				inReply = true
				ex.status, _ = strconv.Atoi(strings.Fields(l)[2])
			case inReply && (l == "<" || l == "< "):
				inBody = true
			case inReply && strings.HasPrefix(l, "< "):
				k, v, ok := strings.Cut(strings.TrimPrefix(l, "< "), ": ")
				if ok {
					ex.headers.Add(k, v)
				}
			case inBody && l != "" && !strings.HasPrefix(l, "#"):
				ex.body += l + "\n"
			}
		}
		out = append(out, ex)
	}
	return out
}

// TestTranscript replays every request recorded against OpenIO's rawx and
// compares status codes, reply headers, bodies and the attributes left on
// disk with what the real server answered and wrote.
func TestTranscript(t *testing.T) {
	ref := chunktest.ReferenceDir(t)
	text, err := os.ReadFile(filepath.Join(ref, "http-transcript.txt"))
	if err != nil {
		t.Fatal(err)
	}
	refVol := chunktest.ExtractReference(t)
	srv, addr := startServer(t, Config{Namespace: "OPENIO"})

	synthetic := map[string]bool{} // chunks whose recorded data is unknown
	for _, ex := range parseTranscript(t, string(text)) {
		t.Run(ex.title, func(t *testing.T) {
			data, exact := requestBody(t, ex, refVol)
			target := strings.Fields(ex.request[0])[1]
			if !exact {
				synthetic[target] = true
			}
			exact = exact && !synthetic[target]
			resp := sendRaw(t, addr, ex, data)
			if resp.StatusCode != ex.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, ex.status,
					resp.Header.Get("X-Error"))
			}
			compareHeaders(t, ex, resp, exact)
			body, _ := io.ReadAll(resp.Body)
			want := strings.ReplaceAll(ex.body, "/srv/rawx/vol", srv.cfg.Volume)
			if strings.HasPrefix(ex.title, "GET /info") || strings.HasPrefix(ex.title, "GET /list") {
				if got := strings.TrimSpace(string(body)); got != strings.TrimSpace(want) {
					t.Errorf("body:\n%s\nwant:\n%s", got, want)
				}
			}
		})
	}

	// The chunks kept in the reference volume have the same attributes here.
	dump, _ := os.ReadFile(filepath.Join(ref, "xattrs.txt"))
	files := chunktest.ParseGetfattrDump(string(dump))
	if len(files) != 4 {
		t.Fatalf("the attribute dump names %d files, want the volume and 3 chunks", len(files))
	}
	for path, want := range files {
		got := readAllAttrs(t, srv.cfg.Volume, path)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s attributes (-real +ours):\n%s", path, diff)
		}
	}
}

// startServer runs a chunk server on a new volume and returns it with its
// address.
func startServer(t *testing.T, cfg Config, setup ...func(*Server)) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Volume == "" {
		cfg.Volume = filepath.Join(t.TempDir(), "vol")
	}
	os.MkdirAll(cfg.Volume, 0o755)
	cfg.Addr = ln.Addr().String()
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(srv)
	}
	hs := srv.HTTPServer()
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return srv, cfg.Addr
}

// requestBody returns the body to send: the chunk's data from the reference
// volume when it kept it (exact is true), else bytes of the recorded size.
func requestBody(t *testing.T, ex exchange, refVol string) (data []byte, exact bool) {
	if ex.bodyLen < 0 && !strings.HasPrefix(ex.request[0], "PUT ") {
		return nil, true
	}
	id := strings.TrimPrefix(strings.Fields(ex.request[0])[1], "/")
	if b, err := os.ReadFile(filepath.Join(refVol, chunk.DefaultLayout.Path(id))); err == nil {
		return b, true
	}
	n := ex.bodyLen
	if m := regexp.MustCompile(`\((\d+) bytes\)`).FindStringSubmatch(ex.title); m != nil {
		n, _ = strconv.Atoi(m[1])
	}
	if n <= 0 {
		return nil, true
	}
	data = make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(n)})
	r.Read(data)
	return data, false
}

// sendRaw writes the request exactly as recorded (chunked body, trailers),
// with the Host rewritten to the test server.
func sendRaw(t *testing.T, addr string, ex exchange, data []byte) *http.Response {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(ex.request[0] + "\r\n")
	chunked := false
	for _, h := range ex.request[1:] {
		if strings.HasPrefix(strings.ToLower(h), "host: ") {
			h = "Host: " + strings.Replace(h[6:], "127.0.0.1:6201", addr, 1)
		}
		if strings.EqualFold(h, "transfer-encoding: chunked") {
			chunked = true
		}
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	if chunked {
		if len(data) > 0 {
			fmt.Fprintf(&b, "%x\r\n%s\r\n", len(data), data)
		}
		b.WriteString("0\r\n")
		for _, tr := range ex.trailers {
			if data != nil && strings.HasPrefix(tr, "x-oio-chunk-meta-chunk-hash") {
				continue // the recorded hash is of data this test does not have
			}
			b.WriteString(tr + "\r\n")
		}
		b.WriteString("\r\n")
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	method := strings.Fields(ex.request[0])[0]
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// compareHeaders compares reply headers with the recorded ones. Dates and
// modification times differ by nature; hashes differ when the data was not
// recorded; and error replies may carry an X-Error explanation.
func compareHeaders(t *testing.T, ex exchange, resp *http.Response, exact bool) {
	t.Helper()
	skip := map[string]bool{"Date": true, "Last-Modified": true, "X-Error": true}
	if !exact {
		skip[HdrChunkHash] = true
	}
	if strings.HasPrefix(ex.title, "GET /info") {
		skip["Content-Length"] = true // the volume path differs
	}
	if resp.StatusCode == http.StatusPartialContent {
		skip["Content-Type"] = true // OpenIO sniffs a text type; see the package doc
	}
	got, want := map[string]string{}, map[string]string{}
	for k, v := range resp.Header {
		if !skip[k] {
			got[k] = strings.Join(v, ",")
		}
	}
	for k, v := range ex.headers {
		if !skip[k] {
			want[k] = strings.Join(v, ",")
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers (-real +ours):\n%s", diff)
	}
	if lm := resp.Header.Get("Last-Modified"); ex.headers.Get("Last-Modified") != "" &&
		!strings.HasSuffix(lm, " UTC") {
		t.Errorf("Last-Modified %q is not in OpenIO's RFC 1123 UTC form", lm)
	}
}

// readAllAttrs returns the user attributes of a file or of the volume root.
func readAllAttrs(t *testing.T, vol, rel string) map[string]string {
	t.Helper()
	path := filepath.Join(vol, strings.TrimPrefix(rel, "vol"))
	attrs, err := chunk.ReadAttrs(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range attrs {
		out[a.Name] = a.Value
	}
	if rel == "vol" {
		// The real server ran on 127.0.0.1:6201; this one on a random port.
		if out[chunk.AttrVolumeID] != "" {
			out[chunk.AttrVolumeID] = "127.0.0.1:6201"
		}
	}
	return out
}
