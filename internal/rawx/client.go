package rawx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/httpclient"
)

// Errors a chunk server's replies map to; test with errors.Is.
var (
	ErrNotFound    = errors.New("chunk not found")
	ErrExists      = errors.New("chunk already exists")
	ErrHashFailed  = errors.New("chunk data does not match its hash")
	ErrBadRequest  = errors.New("chunk request refused")
	ErrServerError = errors.New("chunk server error")
	// ErrNotRegular is the ErrNotFound of a name in the volume that is not
	// a chunk file (a link, a pipe): something is there all the same.
	ErrNotRegular = errors.New("not a chunk file")
	// ErrNoAddress is returned, without any request or name lookup, for a
	// chunk URL whose host has no port: the service id of a chunk server
	// the directory could not resolve to an address (one not running).
	ErrNoAddress = errors.New("chunk server has no address (host:port)")
)

// StatusError is a reply with an unexpected status. It matches the
// sentinel errors above with errors.Is.
type StatusError struct {
	Op     string // e.g. "PUT http://127.0.0.1:6201/ABC…"
	Status int
	Reason string // the server's X-Error, if any
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s: %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Is maps the status to the package's sentinel errors.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrNotRegular:
		return e.Status == http.StatusNotFound && e.Reason == reasonNotRegular
	case ErrExists:
		return e.Status == http.StatusConflict
	case ErrHashFailed:
		return e.Status == http.StatusPreconditionFailed
	case ErrBadRequest:
		return e.Status >= 400 && e.Status < 500
	case ErrServerError:
		return e.Status >= 500
	}
	return false
}

// DefaultTransport is shared by clients that do not bring their own: many
// keep-alive connections per chunk server, no compression.
var DefaultTransport = httpclient.Transport

// Client talks to chunk servers. The zero value is ready to use and safe
// for concurrent use.
type Client struct {
	HTTP      *http.Client // nil means a client on DefaultTransport
	RequestID string       // sent as X-oio-req-id when set
}

func (c *Client) do(req *http.Request) (*http.Response, error) {
	if req.URL.Port() == "" {
		return nil, fmt.Errorf("chunk server %q: %w", req.URL.Host, ErrNoAddress)
	}
	if c.RequestID != "" {
		req.Header[HdrReqID] = []string{c.RequestID}
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Transport: DefaultTransport}
	}
	return hc.Do(req)
}

// check turns a reply with a status other than want into a StatusError,
// draining and closing its body.
func check(resp *http.Response, op string, want ...int) error {
	for _, w := range want {
		if resp.StatusCode == w {
			return nil
		}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return &StatusError{Op: op, Status: resp.StatusCode, Reason: resp.Header.Get("X-Error")}
}

// PutResult is what a chunk server reports about a stored chunk.
type PutResult struct {
	Hash string // uppercase hex
	Size int64
}

// Put uploads a chunk to chunkURL ("http://host:port/<id>") with the owner,
// position, method and policy of m (and its extra properties). size is the
// body length, or -1 to send it chunked.
func (c *Client) Put(ctx context.Context, chunkURL string, m *chunk.Meta, body io.Reader,
	size int64) (PutResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, chunkURL, body)
	if err != nil {
		return PutResult{}, fmt.Errorf("put chunk: %w", err)
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	setPutHeaders(req.Header, m)
	resp, err := c.do(req)
	if err != nil {
		return PutResult{}, fmt.Errorf("put chunk %s: %w", chunkURL, err)
	}
	if err := check(resp, "PUT "+chunkURL, http.StatusCreated); err != nil {
		return PutResult{}, err
	}
	resp.Body.Close()
	n, err := strconv.ParseInt(resp.Header.Get(HdrChunkSize), 10, 64)
	if err != nil {
		return PutResult{}, fmt.Errorf("put chunk %s: bad size in reply: %w", chunkURL, err)
	}
	return PutResult{Hash: resp.Header.Get(HdrChunkHash), Size: n}, nil
}

func setPutHeaders(h http.Header, m *chunk.Meta) {
	fp := m.Fullpath
	h[HdrFullPath] = []string{fp.String()}
	h[HdrContainerID] = []string{fp.ContainerID()}
	h[HdrContentPath] = []string{chunk.Quote(fp.Path)}
	h[HdrContentVersion] = []string{strconv.FormatInt(fp.Version, 10)}
	h[HdrContentID] = []string{fp.ContentID}
	h[HdrStoragePolicy] = []string{m.StoragePolicy}
	h[HdrChunkMethod] = []string{m.ChunkMethod}
	h[HdrChunkPos] = []string{m.Position}
	if m.ChunkID != "" {
		h[HdrChunkID] = []string{m.ChunkID}
	}
	if m.HasMetaSize {
		h[HdrMetachunkSize] = []string{strconv.FormatInt(m.MetachunkSize, 10)}
	}
	if m.MetachunkHash != "" {
		h[HdrMetachunkHash] = []string{m.MetachunkHash}
	}
	if m.Hash != "" {
		h[HdrChunkHash] = []string{m.Hash}
	}
	for k, v := range m.Extra {
		h[HdrExtPrefix+k] = []string{chunk.Quote(v)}
	}
}

// Get reads length bytes of a chunk from offset off (length < 0: to the
// end) and returns the body with the chunk's metadata. The caller closes
// the body.
func (c *Client) Get(ctx context.Context, chunkURL string, off, length int64) (io.ReadCloser,
	*chunk.Meta, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, chunkURL, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("get chunk: %w", err)
	}
	if off > 0 || length >= 0 {
		r := "bytes=" + strconv.FormatInt(off, 10) + "-"
		if length >= 0 {
			r += strconv.FormatInt(off+length-1, 10)
		}
		req.Header["Range"] = []string{r}
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("get chunk %s: %w", chunkURL, err)
	}
	if err := check(resp, "GET "+chunkURL, http.StatusOK, http.StatusPartialContent); err != nil {
		return nil, nil, err
	}
	return resp.Body, MetaFromHeaders(resp.Header), nil
}

// GetSized returns the whole chunk at chunkURL, which must hold size
// bytes (the directory's size) whatever its size attribute says: a chunk
// server of gridkeep answers 412 (ErrHashFailed) when the file holds
// another size. One that does not read the expectation, as OpenIO's,
// serves the size its attribute says, so a reply of another length fails
// too, with ErrHashFailed.
func (c *Client) GetSized(ctx context.Context, chunkURL string, size int64) (io.ReadCloser,
	*chunk.Meta, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, chunkURL, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("get chunk: %w", err)
	}
	req.Header[HdrChunkSize] = []string{strconv.FormatInt(size, 10)}
	resp, err := c.do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("get chunk %s: %w", chunkURL, err)
	}
	if err := check(resp, "GET "+chunkURL, http.StatusOK); err != nil {
		return nil, nil, err
	}
	if resp.ContentLength != size {
		resp.Body.Close()
		return nil, nil, fmt.Errorf("get chunk %s: %w: %d bytes served, %d expected", chunkURL,
			ErrHashFailed, resp.ContentLength, size)
	}
	return resp.Body, MetaFromHeaders(resp.Header), nil
}

// Head returns the metadata of a chunk. With checkHash the server first
// re-reads the data and the call fails with ErrHashFailed on a mismatch.
func (c *Client) Head(ctx context.Context, chunkURL string, checkHash bool) (*chunk.Meta, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, chunkURL, nil)
	if err != nil {
		return nil, fmt.Errorf("head chunk: %w", err)
	}
	if checkHash {
		req.Header[HdrCheckHash] = []string{"true"}
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, fmt.Errorf("head chunk %s: %w", chunkURL, err)
	}
	if err := check(resp, "HEAD "+chunkURL, http.StatusOK); err != nil {
		return nil, err
	}
	resp.Body.Close()
	return MetaFromHeaders(resp.Header), nil
}

// Delete removes a chunk.
func (c *Client) Delete(ctx context.Context, chunkURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, chunkURL, nil)
	if err != nil {
		return fmt.Errorf("delete chunk: %w", err)
	}
	resp, err := c.do(req)
	if err != nil {
		return fmt.Errorf("delete chunk %s: %w", chunkURL, err)
	}
	if err := check(resp, "DELETE "+chunkURL, http.StatusNoContent); err != nil {
		return err
	}
	return resp.Body.Close()
}

// Link makes a shallow copy of srcURL as dstURL on the same chunk server,
// owned by fp.
func (c *Client) Link(ctx context.Context, srcURL, dstURL string, fp chunk.Fullpath) error {
	req, err := http.NewRequestWithContext(ctx, "COPY", srcURL, nil)
	if err != nil {
		return fmt.Errorf("link chunk: %w", err)
	}
	req.Header[HdrDestination] = []string{dstURL}
	req.Header[HdrFullPath] = []string{fp.String()}
	resp, err := c.do(req)
	if err != nil {
		return fmt.Errorf("link chunk %s: %w", srcURL, err)
	}
	if err := check(resp, "COPY "+srcURL, http.StatusCreated); err != nil {
		return err
	}
	return resp.Body.Close()
}

// SetProperties sets extra properties on a chunk.
func (c *Client) SetProperties(ctx context.Context, chunkURL string, props map[string]string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, chunkURL, nil)
	if err != nil {
		return fmt.Errorf("set chunk properties: %w", err)
	}
	for k, v := range props {
		req.Header[HdrExtPrefix+http.CanonicalHeaderKey(k)] = []string{chunk.Quote(v)}
	}
	resp, err := c.do(req)
	if err != nil {
		return fmt.Errorf("set chunk properties %s: %w", chunkURL, err)
	}
	if err := check(resp, "POST "+chunkURL, http.StatusOK); err != nil {
		return err
	}
	return resp.Body.Close()
}

// List returns one page of the chunk ids on the server at baseURL
// ("http://host:port"), starting at the leaf directory of startAfter.
func (c *Client) List(ctx context.Context, baseURL, startAfter string, minToReturn int) (*ListReply, error) {
	body, _ := json.Marshal(ListRequest{StartAfter: startAfter, MinToReturn: minToReturn})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/list", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("list chunks: %w", err)
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, fmt.Errorf("list chunks on %s: %w", baseURL, err)
	}
	if err := check(resp, "GET "+baseURL+"/list", http.StatusOK); err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var reply ListReply
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return nil, fmt.Errorf("list chunks on %s: %w", baseURL, err)
	}
	return &reply, nil
}

// MetaFromHeaders reads chunk metadata from the headers of a GET or HEAD
// reply. Fields the server did not send stay empty; a size that does not
// parse as a chunk's size attribute is kept as sent in UnparsedSize.
func MetaFromHeaders(h http.Header) *chunk.Meta {
	m := &chunk.Meta{
		ChunkID:       h.Get(HdrChunkID),
		Position:      h.Get(HdrChunkPos),
		Hash:          strings.ToUpper(h.Get(HdrChunkHash)),
		ChunkMethod:   h.Get(HdrChunkMethod),
		StoragePolicy: h.Get(HdrStoragePolicy),
		MetachunkHash: strings.ToUpper(h.Get(HdrMetachunkHash)),
		FullpathRaw:   h.Get(HdrFullPath),
	}
	if v := h.Get(HdrChunkSize); v != "" {
		if m.Size, m.HasSize = chunk.ParseSize(v); !m.HasSize {
			m.UnparsedSize = v
		}
	}
	if n, err := strconv.ParseInt(h.Get(HdrMetachunkSize), 10, 64); err == nil {
		m.MetachunkSize, m.HasMetaSize = n, true
	}
	if fp, err := chunk.ParseFullpath(m.FullpathRaw); err == nil {
		m.Fullpath = fp
	}
	for k, v := range h {
		if key, ok := strings.CutPrefix(k, HdrExtPrefix); ok && len(v) > 0 {
			if m.Extra == nil {
				m.Extra = make(map[string]string)
			}
			m.Extra[key] = v[0]
		}
	}
	return m
}

// ChunkURL returns the URL of chunk id on the server at addr (host:port or
// service id).
func ChunkURL(addr, id string) string { return "http://" + addr + "/" + id }

// SplitChunkURL returns the host and the canonical chunk id of a chunk URL.
func SplitChunkURL(chunkURL string) (host, id string, err error) {
	u, err := url.Parse(chunkURL)
	if err != nil {
		return "", "", fmt.Errorf("chunk url %q: %w", chunkURL, err)
	}
	id, err = chunk.NormalizeID(strings.TrimPrefix(u.Path, "/"))
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", fmt.Errorf("chunk url %q: not http://host/<chunk id>", chunkURL)
	}
	return u.Host, id, nil
}

// ParseLastModified reads the Last-Modified header of a chunk server's
// reply. OpenIO's rawx, and this one, write RFC 1123 times with the zone
// "UTC", which http.ParseTime refuses; both that form and the standard
// "GMT" one are accepted.
func ParseLastModified(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC1123, v); err == nil {
		return t, nil
	}
	return http.ParseTime(v)
}
