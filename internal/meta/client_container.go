package meta

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// ContainerCreate creates a container, and reports false when it already
// existed.
func (c *Client) ContainerCreate(ctx context.Context, account, name string,
	props, system map[string]string) (bool, error) {
	k := c.proxyCall(http.MethodPost, "container/create", refQuery(account, name))
	k.body = wireContainerBody{Properties: orEmpty(props), System: orEmpty(system)}
	rep, err := c.do(ctx, k, nil)
	if err != nil {
		return false, err
	}
	return rep.status == http.StatusCreated, nil
}

// ContainerShow returns a container as container/show describes it: user
// properties from the body, system properties from the headers.
func (c *Client) ContainerShow(ctx context.Context, account, name string) (*Container, error) {
	var body wireProperties
	rep, err := c.do(ctx, c.proxyCall(http.MethodGet, "container/show",
		refQuery(account, name)), &body)
	if err != nil {
		return nil, err
	}
	sys := map[string]string{}
	for h, vs := range rep.header {
		rest, ok := strings.CutPrefix(strings.ToLower(h), containerMetaPrefix+"sys-")
		if ok && len(vs) > 0 {
			v, _ := chunk.Unquote(vs[0])
			sys["sys."+strings.ReplaceAll(rest, "-", ".")] = v
		}
	}
	return containerFromSystem(body.Properties, sys), nil
}

// ContainerGetProperties returns a container with its user and system
// properties, from container/get_properties.
func (c *Client) ContainerGetProperties(ctx context.Context, account,
	name string) (*Container, error) {
	k := c.proxyCall(http.MethodPost, "container/get_properties", refQuery(account, name))
	k.body = []string{}
	var body wireProperties
	if _, err := c.do(ctx, k, &body); err != nil {
		return nil, err
	}
	return containerFromSystem(body.Properties, body.System), nil
}

// containerFromSystem fills a container's fields from its system
// properties.
func containerFromSystem(props, sys map[string]string) *Container {
	num := func(k string) int64 { n, _ := strconv.ParseInt(sys[k], 10, 64); return n }
	if props == nil {
		props = map[string]string{}
	}
	ct := &Container{Account: sys[SysAccount], Name: sys[SysUserName], CTime: num(SysCTime),
		Objects: num(SysObjects), Bytes: num(SysUsage), Properties: props, System: sys}
	if ct.Account != "" && ct.Name != "" {
		ct.ID = chunk.ContainerID(ct.Account, ct.Name)
	}
	return ct
}

// ContainerSetProperties sets user properties (replacing them all with
// flush) and writable system properties.
func (c *Client) ContainerSetProperties(ctx context.Context, account, name string,
	props, system map[string]string, flush bool) error {
	q := refQuery(account, name)
	if flush {
		q.Set("flush", "1")
	}
	k := c.proxyCall(http.MethodPost, "container/set_properties", q)
	k.body = wireContainerBody{Properties: orEmpty(props), System: orEmpty(system)}
	_, err := c.do(ctx, k, nil)
	return err
}

// ContainerDelProperties removes user properties.
func (c *Client) ContainerDelProperties(ctx context.Context, account, name string,
	keys []string) error {
	k := c.proxyCall(http.MethodPost, "container/del_properties", refQuery(account, name))
	k.body = keys
	_, err := c.do(ctx, k, nil)
	return err
}

// ContainerDestroy removes an empty container.
func (c *Client) ContainerDestroy(ctx context.Context, account, name string) error {
	_, err := c.do(ctx, c.proxyCall(http.MethodPost, "container/destroy",
		refQuery(account, name)), nil)
	return err
}

// ContainerList returns one page of a container's objects.
func (c *Client) ContainerList(ctx context.Context, account, name string,
	opts ListOptions) (*ObjectList, error) {
	var body wireList
	rep, err := c.do(ctx, c.proxyCall(http.MethodGet, "container/list",
		listQuery(account, name, opts)), &body)
	if err != nil {
		return nil, err
	}
	l := &ObjectList{Prefixes: body.Prefixes, Objects: make([]Object, len(body.Objects))}
	for i, o := range body.Objects {
		l.Objects[i] = o.object()
	}
	l.Truncated, _ = ParseBool(rep.header.Get("X-Oio-List-Truncated"))
	if l.Truncated {
		l.NextMarker, _ = chunk.Unquote(rep.header.Get("X-Oio-List-Marker"))
		l.NextVersionMarker, _ = strconv.ParseInt(rep.header.Get("X-Oio-List-Version-Marker"),
			10, 64)
	}
	return l, nil
}

func listQuery(account, name string, o ListOptions) url.Values {
	q := refQuery(account, name)
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("prefix", o.Prefix)
	set("marker", o.Marker)
	set("end_marker", o.EndMarker)
	set("delimiter", o.Delimiter)
	if o.Limit > 0 {
		q.Set("max", strconv.Itoa(o.Limit))
	}
	if o.VersionMarker > 0 {
		q.Set("version_marker", itoa(o.VersionMarker))
	}
	q.Set("properties", FormatBool(o.Properties))
	q.Set("chunks", FormatBool(o.Chunks))
	if o.Versions {
		q.Set("all", "1")
	}
	if o.Deleted {
		q.Set("deleted", "1")
	}
	return q
}

// Objects iterates over a container's objects, page after page. With a
// delimiter, common prefixes are skipped: use ContainerList to see them.
func (c *Client) Objects(ctx context.Context, account, name string,
	opts ListOptions) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		for {
			l, err := c.ContainerList(ctx, account, name, opts)
			if err != nil {
				yield(Object{}, err)
				return
			}
			for _, o := range l.Objects {
				if !yield(o, nil) {
					return
				}
			}
			if !l.Truncated {
				return
			}
			if l.NextMarker == opts.Marker && l.NextVersionMarker == opts.VersionMarker {
				yield(Object{}, fmt.Errorf("list %s/%s: %w", account, name, errNoProgress))
				return
			}
			opts.Marker, opts.VersionMarker = l.NextMarker, l.NextVersionMarker
		}
	}
}
