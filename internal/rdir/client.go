package rdir

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
	"time"

	"github.com/gridkeep/gridkeep/internal/httpclient"
)

// Client bounds.
const (
	// PushBatch is the most records Client.Push sends in one request.
	PushBatch = 1000
	// maxReplyBytes bounds the reply bodies the client reads: a full
	// page of MaxLimit records with the longest paths fits.
	maxReplyBytes = 32 << 20
)

// ClientOptions configures NewClient. The zero value works.
type ClientOptions struct {
	// HTTPClient sends the requests; nil means a client with a 30 s
	// timeout per request.
	HTTPClient *http.Client
}

// Client talks to an rdir service (gridkeep's or OpenIO's) over HTTP. It
// implements Store, so code written against a Store runs against a
// remote service, and All pages through it with the service's markers.
// It is safe for concurrent use.
type Client struct {
	base *url.URL
	hc   *http.Client
}

var _ Store = (*Client)(nil)

// NewClient returns a client of the service at baseURL, such as
// "http://127.0.0.1:6300".
func NewClient(baseURL string, opts ClientOptions) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("rdir client: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("rdir client: base URL %q is not http(s)://host[:port]", baseURL)
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = httpclient.Client(30 * time.Second)
	}
	return &Client{base: u, hc: hc}, nil
}

// StatusError is an error reply of the service. It wraps ErrInvalid,
// ErrLocked or ErrNoVolume for replies 400, 403 and 404.
type StatusError struct {
	Code    int    // HTTP status
	Message string // message of the reply body
}

// Error returns the status and message.
func (e *StatusError) Error() string {
	return fmt.Sprintf("rdir replied %d: %s", e.Code, e.Message)
}

// Unwrap returns the sentinel error matching the status, if any.
func (e *StatusError) Unwrap() error {
	switch e.Code {
	case http.StatusBadRequest:
		return ErrInvalid
	case http.StatusForbidden:
		return ErrLocked
	case http.StatusNotFound:
		return ErrNoVolume
	}
	return nil
}

// call sends a request and checks its status is want. If out is not nil
// the JSON reply body is decoded into it.
func (c *Client) call(ctx context.Context, method, action string, q url.Values, in, out any,
	want int) (http.Header, error) {
	resp, err := c.send(ctx, method, action, q, in)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	if err != nil {
		return nil, fmt.Errorf("rdir %s: read reply: %w", action, err)
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("rdir %s: %w", action, replyError(resp.StatusCode, body))
	}
	if err := decodeReply(body, out); err != nil {
		return nil, fmt.Errorf("rdir %s: %w", action, err)
	}
	return resp.Header, nil
}

func (c *Client) send(ctx context.Context, method, action string, q url.Values,
	in any) (*http.Response, error) {
	u := c.base.JoinPath("/v1/rdir", action)
	u.RawQuery = q.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("rdir %s: %w", action, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("rdir %s: %w", action, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", contentTypeJSON)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("rdir %s: %w", action, err)
	}
	return resp, nil
}

// decodeReply decodes a JSON reply body into out, unless out is nil.
// Fetch replies go through decodePage.
func decodeReply(body []byte, out any) error {
	var err error
	switch out := out.(type) {
	case nil:
		return nil
	case *[]Record:
		*out, err = decodePage(body)
	default:
		err = json.Unmarshal(body, out)
	}
	if err != nil {
		return fmt.Errorf("decode reply: %w", err)
	}
	return nil
}

func replyError(code int, body []byte) *StatusError {
	var w wireError
	if json.Unmarshal(body, &w) != nil || w.Message == "" {
		w.Message = clip(string(body))
	}
	return &StatusError{Code: code, Message: w.Message}
}

func volQuery(vol string) url.Values { return url.Values{"vol": {vol}} }

// CreateVolume creates the volume's database if it does not exist.
func (c *Client) CreateVolume(ctx context.Context, vol string) error {
	_, err := c.call(ctx, http.MethodPost, "create", volQuery(vol), nil, nil, http.StatusCreated)
	return err
}

// Push validates every record, then sends them in requests of at most
// PushBatch records. Each request is applied all or none; if one fails,
// the batches before it stay pushed (pushing again is harmless).
func (c *Client) Push(ctx context.Context, vol string, recs []Record) error {
	norm, err := normalizeRecords(recs)
	if err != nil {
		return fmt.Errorf("rdir push: %w", err)
	}
	for start := 0; start == 0 || start < len(norm); start += PushBatch {
		batch := norm[start:min(start+PushBatch, len(norm))]
		body := make([]wireRecord, len(batch))
		for i, r := range batch {
			body[i] = encodeRecord(r)
		}
		if _, err := c.call(ctx, http.MethodPost, "push", volQuery(vol), body, nil,
			http.StatusNoContent); err != nil {
			return err
		}
	}
	return nil
}

// Delete validates every reference, then sends them in requests of at
// most PushBatch references.
func (c *Client) Delete(ctx context.Context, vol string, refs []ChunkRef) error {
	body := make([]map[string]string, len(refs))
	for i, ref := range refs {
		n, err := ref.Normalize()
		if err != nil {
			return fmt.Errorf("rdir delete: record %d: %w", i, err)
		}
		body[i] = map[string]string{"container_id": n.ContainerID, "chunk_id": n.ChunkID}
	}
	for start := 0; start == 0 || start < len(body); start += PushBatch {
		batch := body[start:min(start+PushBatch, len(body))]
		if _, err := c.call(ctx, http.MethodDelete, "delete", volQuery(vol), batch, nil,
			http.StatusNoContent); err != nil {
			return err
		}
	}
	return nil
}

func listQuery(vol string, opts ListOptions) url.Values {
	q := volQuery(vol)
	if opts.Limit > 0 {
		q.Set("max", strconv.Itoa(opts.Limit))
	}
	if opts.Marker != "" {
		q.Set("marker", opts.Marker)
	}
	if opts.Prefix != "" {
		q.Set("prefix", opts.Prefix)
	}
	if opts.Rebuild {
		q.Set("rebuild", "true")
	}
	if opts.ChunkID != "" {
		q.Set("chunk_id", opts.ChunkID)
	}
	if opts.ContentID != "" {
		q.Set("content_id", opts.ContentID)
	}
	if opts.ByChunk {
		q.Set("order", "chunk_id")
	}
	return q
}

// Fetch returns one page of records. From a service that does not send
// x-oio-list-truncated, a non-empty page is reported truncated with its
// last key as marker, so that paging stops at the first empty page.
func (c *Client) Fetch(ctx context.Context, vol string, opts ListOptions) (Page, error) {
	var recs []Record
	h, err := c.call(ctx, http.MethodGet, "fetch", listQuery(vol, opts), nil, &recs, http.StatusOK)
	if err != nil {
		return Page{}, err
	}
	page := Page{Records: recs}
	page.Truncated, page.Marker, err = listingState(h, len(recs) > 0, func() string {
		return recs[len(recs)-1].Key()
	})
	return page, err
}

// listingState reads the truncation headers of a listing reply.
func listingState(h http.Header, nonEmpty bool, lastKey func() string) (bool, string, error) {
	t := h.Get(HeaderListTruncated)
	if t == "" {
		if !nonEmpty {
			return false, "", nil
		}
		return true, lastKey(), nil
	}
	truncated, err := strconv.ParseBool(t)
	if err != nil {
		return false, "", fmt.Errorf("rdir listing: bad %s %q", HeaderListTruncated, clip(t))
	}
	if !truncated {
		return false, "", nil
	}
	marker := h.Get(HeaderListMarker)
	if marker == "" {
		return false, "", errors.New("rdir listing: truncated reply without marker")
	}
	return true, marker, nil
}

// Status counts one page of records.
func (c *Client) Status(ctx context.Context, vol string, opts ListOptions) (Status, error) {
	opts.Rebuild = false
	var w wireStatus
	h, err := c.call(ctx, http.MethodGet, "status", listQuery(vol, opts), nil, &w, http.StatusOK)
	if err != nil {
		return Status{}, err
	}
	st := w.status()
	st.Truncated, st.Marker, err = listingState(h, false, nil)
	return st, err
}

// IncidentDate returns the incident date in seconds, 0 if unset.
func (c *Client) IncidentDate(ctx context.Context, vol string) (int64, error) {
	var w struct {
		Date int64 `json:"date"`
	}
	_, err := c.call(ctx, http.MethodGet, "admin/incident", volQuery(vol), nil, &w, http.StatusOK)
	return w.Date, err
}

// SetIncidentDate sets the incident date.
func (c *Client) SetIncidentDate(ctx context.Context, vol string, date int64) error {
	_, err := c.call(ctx, http.MethodPost, "admin/incident", volQuery(vol),
		map[string]int64{"date": date}, nil, http.StatusNoContent)
	return err
}

// Lock locks the volume for who.
func (c *Client) Lock(ctx context.Context, vol, who string) error {
	_, err := c.call(ctx, http.MethodPost, "admin/lock", volQuery(vol),
		map[string]string{"who": who}, nil, http.StatusNoContent)
	return err
}

// Unlock removes the lock.
func (c *Client) Unlock(ctx context.Context, vol string) error {
	_, err := c.call(ctx, http.MethodPost, "admin/unlock", volQuery(vol), nil, nil,
		http.StatusNoContent)
	return err
}

// Show returns the administrative state.
func (c *Client) Show(ctx context.Context, vol string) (Admin, error) {
	var m map[string]string
	if _, err := c.call(ctx, http.MethodGet, "admin/show", volQuery(vol), nil, &m,
		http.StatusOK); err != nil {
		return Admin{}, err
	}
	a, err := decodeAdmin(m)
	if err != nil {
		return Admin{}, fmt.Errorf("rdir admin/show: %w", err)
	}
	return a, nil
}

// Clear removes the incident date and the records opts selects.
func (c *Client) Clear(ctx context.Context, vol string, opts ClearOptions) (ClearResult, error) {
	q := volQuery(vol)
	q.Set("all", strconv.FormatBool(opts.All))
	q.Set("before_incident", strconv.FormatBool(opts.BeforeIncident))
	q.Set("repair", strconv.FormatBool(opts.Repair))
	var w wireClear
	_, err := c.call(ctx, http.MethodPost, "admin/clear", q, nil, &w, http.StatusOK)
	return ClearResult(w), err
}

// Close closes idle connections.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}
