package meta

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
	"github.com/gridkeep/gridkeep/internal/jsonx"
)

// DefaultNamespace is the namespace name OpenIO installs by default, and
// the one gridkeep uses when none is given.
const DefaultNamespace = "OPENIO"

// ClientOptions tune a Client. The zero value works.
type ClientOptions struct {
	// Namespace is the namespace name in proxy routes; empty means
	// DefaultNamespace.
	Namespace string
	// AccountURL is the base URL of the account service; empty means the
	// proxy URL (one gridkeep server answers both).
	AccountURL string
	// HTTPClient sends the requests; nil means a client with a 30 s
	// timeout.
	HTTPClient *http.Client
}

// Client calls the directory API: the proxy routes and the account
// service. Each method names a container by account and container name.
// Errors from the server unwrap to the package's sentinel errors
// (ErrNoSuchContainer, ErrInvalid, ...). A Client is safe for concurrent
// use. A request id set on the context with WithRequestID is sent along.
type Client struct {
	proxy   string
	account string
	ns      string
	hc      *http.Client
}

// NewClient returns a client of the directory at proxyURL
// ("http://host:port").
func NewClient(proxyURL string, opts ClientOptions) (*Client, error) {
	proxy, err := baseURL(proxyURL)
	if err != nil {
		return nil, fmt.Errorf("new directory client: %w", err)
	}
	account := proxy
	if opts.AccountURL != "" {
		if account, err = baseURL(opts.AccountURL); err != nil {
			return nil, fmt.Errorf("new directory client: %w", err)
		}
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if err := chunk.CheckNamespace(opts.Namespace); err != nil {
		return nil, fmt.Errorf("new directory client: %w", err)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = httpclient.Client(30 * time.Second)
	}
	return &Client{proxy: proxy, account: account, ns: opts.Namespace, hc: opts.HTTPClient}, nil
}

// baseURL checks a service URL; a bare "host:port" means http. A bare
// word without a port is refused rather than looked up as a host name.
func baseURL(s string) (string, error) {
	bare := !strings.Contains(s, "://")
	if bare {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" ||
		bare && u.Port() == "" || !validPort(u.Port()) || u.Path != "" && u.Path != "/" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("bad service URL %q: want http://HOST[:PORT] or HOST:PORT, with no path",
			strings.TrimPrefix(s, "http://"))
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// validPort reports whether p, the port of a URL, is empty or a TCP port.
func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return p == "" || err == nil && n >= 1 && n <= 65535
}

// Error is an error reply of the directory: the HTTP status and the
// OpenIO code and message of its body. It unwraps to the sentinel error
// they stand for.
type Error struct {
	Status  int
	Code    int
	Message string
}

// FirstContact wraps err, the failure of a first request to the
// directory: "directory unreachable" when no reply came, "directory
// refused" when one did (a wrong namespace, say).
func FirstContact(err error) error {
	var me *Error
	if errors.As(err, &me) {
		return fmt.Errorf("directory refused: %w", err)
	}
	return fmt.Errorf("directory unreachable: %w", err)
}

// Error describes the reply. One with neither an OpenIO code nor a message
// says so: a directory always gives a reason.
func (e *Error) Error() string {
	if e.NoReason() {
		return fmt.Sprintf("the reply was %d %s, with no reason: the URL may not be that of a "+
			"gridkeep or OpenIO directory", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("directory replied %d (code %d): %s", e.Status, e.Code, e.Message)
}

// NoReason reports whether the reply had neither an OpenIO code nor a
// message, as no directory replies: it likely came from another server.
func (e *Error) NoReason() bool { return e.Code == 0 && e.Message == "" }

// Unwrap returns the sentinel error of the reply, if any.
func (e *Error) Unwrap() error { return errorFor(e.Status, e.Code) }

// call is one request: a route, its query, headers and JSON body.
type call struct {
	method string
	url    string
	query  url.Values
	header http.Header
	body   any
}

// proxyCall returns a call of a proxy route such as "container/show".
func (c *Client) proxyCall(method, route string, q url.Values) *call {
	return &call{method: method, url: c.proxy + "/v3.0/" + url.PathEscape(c.ns) + "/" + route,
		query: q}
}

// accountCall returns a call of an account service route.
func (c *Client) accountCall(method, route string, q url.Values) *call {
	return &call{method: method, url: c.account + "/v1.0/" + route, query: q}
}

// reply is a successful answer.
type reply struct {
	status int
	header http.Header
}

// do sends a call and decodes a JSON answer into out, when out is not nil
// and the answer has a body.
func (c *Client) do(ctx context.Context, k *call, out any) (*reply, error) {
	req, err := c.request(ctx, k)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", k.method, k.url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read reply: %w", k.method, k.url, err)
	}
	if resp.StatusCode >= 400 {
		return nil, fmt.Errorf("%s %s: %w", k.method, k.url, replyError(resp.StatusCode, b))
	}
	if out != nil && len(b) > 0 {
		if err := jsonx.Unmarshal(b, out); err != nil {
			return nil, fmt.Errorf("%s %s: decode reply: %w", k.method, k.url, err)
		}
	}
	return &reply{status: resp.StatusCode, header: resp.Header}, nil
}

func (c *Client) request(ctx context.Context, k *call) (*http.Request, error) {
	var body io.Reader
	if k.body != nil {
		b, err := json.Marshal(k.body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode body: %w", k.method, k.url, err)
		}
		body = bytes.NewReader(b)
	}
	u := k.url
	if len(k.query) > 0 {
		u += "?" + k.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, k.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", k.method, k.url, err)
	}
	for h, vs := range k.header {
		req.Header[h] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if id := RequestID(ctx); id != "" {
		req.Header.Set("X-Oio-Req-Id", id)
	}
	return req, nil
}

func replyError(status int, body []byte) error {
	e := &Error{Status: status}
	var eb errorBody
	if jsonx.Unmarshal(body, &eb) == nil && (eb.Status != 0 || eb.Message != "") {
		e.Code, e.Message = eb.Status, eb.Message
	} else {
		e.Message = strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	return e
}

// refQuery returns the query naming a container.
func refQuery(account, container string) url.Values {
	return url.Values{"acct": {account}, "ref": {container}}
}

// objectQueryValues returns the query naming an object version.
func objectQueryValues(account, container, path string, version int64) url.Values {
	q := refQuery(account, container)
	q.Set("path", path)
	if version != 0 {
		q.Set("version", itoa(version))
	}
	return q
}

var errNoProgress = errors.New("listing marker did not move")
