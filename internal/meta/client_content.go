package meta

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// autocreateHeader asks the server to create a missing container.
var autocreateHeader = http.Header{"X-Oio-Action-Mode": {"autocreate"}}

// ContentPrepare asks where to write the metachunks of an object. The
// first prepare of a put (position 0) creates the container if missing;
// later ones fail if it was deleted since.
func (c *Client) ContentPrepare(ctx context.Context, account, container, path string,
	req PrepareRequest) (*Prepared, error) {
	k := c.proxyCall(http.MethodPost, "content/prepare2",
		objectQueryValues(account, container, path, req.Version))
	if req.Position == 0 {
		k.header = autocreateHeader
	}
	k.body = wirePrepare{Size: req.Size, Policy: req.Policy, Position: req.Position}
	var body wirePrepared
	rep, err := c.do(ctx, k, &body)
	if err != nil {
		return nil, err
	}
	o := objectFromReply(rep.header)
	size, _ := strconv.ParseInt(rep.header.Get("X-Oio-Ns-Chunk-Size"), 10, 64)
	return &Prepared{ContentID: o.ContentID, Version: o.Version, Policy: o.Policy,
		ChunkMethod: o.ChunkMethod, ChunkSize: size, Chunks: body.Chunks}, nil
}

// ContentCreate commits an object version whose chunks are written: its
// name, size, hash, chunks and properties, and the content id, version,
// policy and chunk method from ContentPrepare. The container must exist:
// one deleted while the chunks were written is not brought back, without
// its properties and policies, by the commit of an object it no longer
// expects. It returns the object's header as stored.
func (c *Client) ContentCreate(ctx context.Context, account, container string,
	o *Object) (*Object, error) {
	k := c.proxyCall(http.MethodPost, "content/create",
		objectQueryValues(account, container, o.Name, 0))
	k.header = make(http.Header)
	set := func(name, v string) {
		if v != "" {
			k.header.Set(contentMetaPrefix+name, v)
		}
	}
	set("length", itoa(o.Size))
	set("hash", o.Hash)
	set("id", o.ContentID)
	set("policy", o.Policy)
	set("chunk-method", o.ChunkMethod)
	set("mime-type", o.MimeType)
	if o.Version != 0 {
		set("version", itoa(o.Version))
	}
	k.body = wireCreate{Chunks: orNone(o.Chunks), Properties: orEmpty(o.Properties)}
	rep, err := c.do(ctx, k, nil)
	if err != nil {
		return nil, err
	}
	return objectFromReply(rep.header), nil
}

func orNone(c []Chunk) []Chunk {
	if c == nil {
		return []Chunk{}
	}
	return c
}

// objectFromReply reads an object's x-oio-content-meta-* reply headers.
func objectFromReply(h http.Header) *Object {
	get := func(k string) string { return h.Get(contentMetaPrefix + k) }
	num := func(k string) int64 { n, _ := strconv.ParseInt(get(k), 10, 64); return n }
	name, _ := chunk.Unquote(get("name"))
	deleted, _ := ParseBool(get("deleted"))
	return &Object{Name: name, Version: num("version"), ContentID: get("id"),
		Deleted: deleted, Policy: get("policy"), ChunkMethod: get("chunk-method"),
		Size: num("length"), Hash: get("hash"), MimeType: get("mime-type"),
		CTime: num("ctime"), MTime: num("mtime")}
}

// Locate returns an object version (the latest when version is 0) with
// its chunks, ordered by position, without its properties (see
// ContentGetProperties).
func (c *Client) Locate(ctx context.Context, account, container, path string,
	version int64) (*Object, error) {
	return c.locate(ctx, objectQueryValues(account, container, path, version))
}

// LocateByID returns the object version with a content id in the
// container of id cid.
func (c *Client) LocateByID(ctx context.Context, cid, contentID string) (*Object, error) {
	return c.locate(ctx, url.Values{"cid": {cid}, "content": {contentID}})
}

func (c *Client) locate(ctx context.Context, q url.Values) (*Object, error) {
	q.Set("properties", "False")
	var chunks []Chunk
	rep, err := c.do(ctx, c.proxyCall(http.MethodGet, "content/locate", q), &chunks)
	if err != nil {
		return nil, err
	}
	o := objectFromReply(rep.header)
	o.Chunks = chunks
	return o, nil
}

// ContentGetProperties returns an object version's header and properties,
// without its chunks.
func (c *Client) ContentGetProperties(ctx context.Context, account, container, path string,
	version int64) (*Object, error) {
	var body wireContentProperties
	rep, err := c.do(ctx, c.proxyCall(http.MethodPost, "content/get_properties",
		objectQueryValues(account, container, path, version)), &body)
	if err != nil {
		return nil, err
	}
	o := objectFromReply(rep.header)
	o.Properties = orEmpty(body.Properties)
	return o, nil
}

// ContentSetProperties sets an object version's properties, replacing
// them all with flush.
func (c *Client) ContentSetProperties(ctx context.Context, account, container, path string,
	version int64, props map[string]string, flush bool) error {
	q := objectQueryValues(account, container, path, version)
	if flush {
		q.Set("flush", "1")
	}
	k := c.proxyCall(http.MethodPost, "content/set_properties", q)
	k.body = wireContentProperties{Properties: orEmpty(props)}
	_, err := c.do(ctx, k, nil)
	return err
}

// ContentDelProperties removes properties of an object version.
func (c *Client) ContentDelProperties(ctx context.Context, account, container, path string,
	version int64, keys []string) error {
	k := c.proxyCall(http.MethodPost, "content/del_properties",
		objectQueryValues(account, container, path, version))
	k.body = keys
	_, err := c.do(ctx, k, nil)
	return err
}

// ContentDelete deletes an object: version 0 means the latest, hidden
// behind a delete marker in a versioned container.
func (c *Client) ContentDelete(ctx context.Context, account, container, path string,
	version int64) (DeleteResult, error) {
	k := c.proxyCall(http.MethodPost, "content/delete",
		objectQueryValues(account, container, path, version))
	k.body = map[string]any{}
	rep, err := c.do(ctx, k, nil)
	if err != nil {
		return DeleteResult{}, err
	}
	marker, _ := ParseBool(rep.header.Get("X-Oio-Delete-Marker"))
	v, _ := strconv.ParseInt(rep.header.Get("X-Oio-Version-Id"), 10, 64)
	return DeleteResult{Version: v, DeleteMarker: marker}, nil
}
