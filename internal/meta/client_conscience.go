package meta

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Register registers a service, or refreshes its registration; it counts
// as a heartbeat.
func (c *Client) Register(ctx context.Context, s Service) error {
	k := c.proxyCall(http.MethodPost, "conscience/register", nil)
	k.body = wireService{Type: s.Type, ID: s.ID, Addr: s.Addr, Volume: s.Volume, Free: s.Free,
		Total: s.Total, Tags: anyMap(s.Tags)}
	_, err := c.do(ctx, k, nil)
	return err
}

func anyMap(m map[string]string) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Heartbeat tells the registry a service is alive, with its space in
// bytes. ErrNoSuchService means the registry forgot it: register again.
func (c *Client) Heartbeat(ctx context.Context, typ, id string, free, total int64) error {
	k := c.proxyCall(http.MethodPost, "conscience/heartbeat", nil)
	k.body = wireHeartbeat{Type: typ, ID: id, Free: free, Total: total}
	_, err := c.do(ctx, k, nil)
	return err
}

// Deregister removes a service from the registry.
func (c *Client) Deregister(ctx context.Context, typ, id string) error {
	k := c.proxyCall(http.MethodPost, "conscience/deregister", nil)
	k.body = wireHeartbeat{Type: typ, ID: id}
	_, err := c.do(ctx, k, nil)
	return err
}

// ListServices returns the registered services of a type, dead ones
// included (Alive false).
func (c *Client) ListServices(ctx context.Context, typ string) ([]Service, error) {
	var body []wireService
	if _, err := c.do(ctx, c.proxyCall(http.MethodGet, "conscience/list",
		url.Values{"type": {typ}}), &body); err != nil {
		return nil, err
	}
	out := make([]Service, len(body))
	for i, ws := range body {
		s := ws.service()
		s.Alive = ws.Alive
		if ws.LastSeen > 0 {
			s.LastSeen = time.Unix(ws.LastSeen, 0)
		}
		out[i] = s
	}
	return out, nil
}

// CheckNamespace asks the directory, on a proxy route, whether it serves
// the client's namespace; the account routes carry none, so a caller that
// uses only them calls it first. A directory that serves another namespace
// fails it with an *Error that unwraps to ErrInvalid.
func (c *Client) CheckNamespace(ctx context.Context) error {
	_, err := c.do(ctx, c.proxyCall(http.MethodGet, "conscience/list",
		url.Values{"type": {"rawx"}}), nil)
	return err
}

// Resolve returns the address of the service of a type with the given id.
func (c *Client) Resolve(ctx context.Context, typ, id string) (string, error) {
	var body struct {
		Addr string `json:"addr"`
	}
	if _, err := c.do(ctx, c.proxyCall(http.MethodGet, "conscience/resolve",
		url.Values{"type": {typ}, "service_id": {id}}), &body); err != nil {
		return "", err
	}
	return body.Addr, nil
}

// RdirFor returns the address (host:port) of the reverse index of a
// volume. The directory may name the service by its id instead, as
// OpenIO's does for services that have one: the id is then resolved to
// its address. An id the directory cannot resolve is an error that is
// neither Missing nor ErrNoSuchService: the volume has a reverse index,
// which cannot be reached.
func (c *Client) RdirFor(ctx context.Context, volume string) (string, error) {
	var body wireReference
	if _, err := c.do(ctx, c.proxyCall(http.MethodGet, "reference/show",
		url.Values{"acct": {"_RDIR"}, "ref": {volume}, "type": {"rdir"}}), &body); err != nil {
		return "", err
	}
	i := slices.IndexFunc(body.Srv, func(s wireLinked) bool { return s.Type == "rdir" })
	if i < 0 {
		return "", fmt.Errorf("rdir of volume %q: %w", volume, ErrNoSuchService)
	}
	host := body.Srv[i].Host
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host, nil
	}
	addr, err := c.Resolve(ctx, "rdir", host)
	if err == nil && addr == "" {
		err = errors.New("no address in the reply")
	}
	if err != nil {
		return "", fmt.Errorf("rdir of volume %q is service %s, not resolved by the directory: %v", volume,
			host, err)
	}
	return addr, nil
}

// ResolveCID returns the account and name of the container of id cid.
func (c *Client) ResolveCID(ctx context.Context, cid string) (account, name string,
	err error) {
	var body wireReference
	if _, err := c.do(ctx, c.proxyCall(http.MethodGet, "reference/show",
		url.Values{"cid": {cid}}), &body); err != nil {
		return "", "", err
	}
	return body.Account, body.Name, nil
}
