package meta

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/jsonx"
)

// Bean type names, the "type" field of each element of a content event's
// data.
const (
	BeanAlias    = "aliases"
	BeanHeader   = "contents_headers"
	BeanChunk    = "chunks"
	BeanProperty = "properties"
)

// AliasBean names an object version in a content event. Times are in
// seconds; Header is the content id (empty for a delete marker).
type AliasBean struct {
	Type    string `json:"type"`
	Name    string `json:"name"`
	Version int64  `json:"version"`
	CTime   int64  `json:"ctime"`
	MTime   int64  `json:"mtime"`
	Deleted bool   `json:"deleted"`
	Header  string `json:"header"`
}

// HeaderBean describes the content of an object version in a content event.
type HeaderBean struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	Hash        string `json:"hash"`
	Size        int64  `json:"size"`
	CTime       int64  `json:"ctime"`
	MTime       int64  `json:"mtime"`
	Policy      string `json:"policy"`
	ChunkMethod string `json:"chunk-method"`
	MimeType    string `json:"mime-type"`
}

// ChunkBean is one chunk in a content event; ID is the chunk's full URL.
type ChunkBean struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Hash    string `json:"hash"`
	Size    int64  `json:"size"`
	CTime   int64  `json:"ctime"`
	Pos     string `json:"pos"`
	Content string `json:"content"`
}

// PropertyBean is one object property in a content event.
type PropertyBean struct {
	Type    string `json:"type"`
	Alias   string `json:"alias"`
	Version int64  `json:"version"`
	Key     string `json:"key"`
	Value   string `json:"value"`
}

// ContentBeans returns the data of a content event about o: its alias, its
// content header (unless o is a delete marker), its chunks when withChunks,
// and its properties in key order.
func ContentBeans(o *Object, withChunks bool) []any {
	beans := []any{AliasBean{Type: BeanAlias, Name: o.Name, Version: o.Version,
		CTime: o.CTime, MTime: o.MTime, Deleted: o.Deleted, Header: o.ContentID}}
	if !o.Deleted {
		beans = append(beans, HeaderBean{Type: BeanHeader, ID: o.ContentID, Hash: o.Hash,
			Size: o.Size, CTime: o.CTime, MTime: o.MTime, Policy: o.Policy,
			ChunkMethod: o.ChunkMethod, MimeType: o.MimeType})
	}
	if withChunks {
		for _, c := range o.Chunks {
			beans = append(beans, ChunkBean{Type: BeanChunk, ID: c.URL, Hash: c.Hash,
				Size: c.Size, CTime: o.CTime, Pos: c.Pos, Content: o.ContentID})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(o.Properties)) {
		beans = append(beans, PropertyBean{Type: BeanProperty, Alias: o.Name,
			Version: o.Version, Key: k, Value: o.Properties[k]})
	}
	return beans
}

// ParseContentBeans rebuilds the object a content event's data describes.
// Unknown bean types are skipped.
func ParseContentBeans(data json.RawMessage) (*Object, error) {
	var raw []json.RawMessage
	if err := jsonx.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse content event data: %w", err)
	}
	o := &Object{}
	for _, r := range raw {
		if err := parseBean(o, r); err != nil {
			return nil, fmt.Errorf("parse content event data: %w", err)
		}
	}
	return o, nil
}

func parseBean(o *Object, r json.RawMessage) error {
	var t struct{ Type string }
	if err := jsonx.Unmarshal(r, &t); err != nil {
		return err
	}
	switch t.Type {
	case BeanAlias:
		var a AliasBean
		err := jsonx.Unmarshal(r, &a)
		o.Name, o.Version, o.CTime, o.MTime, o.Deleted = a.Name, a.Version, a.CTime, a.MTime, a.Deleted
		o.ContentID = a.Header
		return err
	case BeanHeader:
		var h HeaderBean
		err := jsonx.Unmarshal(r, &h)
		o.ContentID, o.Hash, o.Size, o.Policy = h.ID, h.Hash, h.Size, h.Policy
		o.ChunkMethod, o.MimeType = h.ChunkMethod, h.MimeType
		return err
	case BeanChunk:
		var c ChunkBean
		err := jsonx.Unmarshal(r, &c)
		o.Chunks = append(o.Chunks, Chunk{URL: c.ID, Pos: c.Pos, Size: c.Size, Hash: c.Hash})
		return err
	case BeanProperty:
		var p PropertyBean
		err := jsonx.Unmarshal(r, &p)
		if o.Properties == nil {
			o.Properties = map[string]string{}
		}
		o.Properties[p.Key] = p.Value
		return err
	}
	return nil
}

// ContentEvent returns a content event (event.ContentNew, ContentUpdate,
// ContentDeleted...) about object o of container c. Deletions carry the
// chunks so that their files can be removed.
func ContentEvent(typ, ns string, c *Container, o *Object, when int64,
	reqID string) (event.Event, error) {
	withChunks := typ == event.ContentDeleted || typ == event.ContentDrained
	data, err := json.Marshal(ContentBeans(o, withChunks))
	if err != nil {
		return event.Event{}, fmt.Errorf("encode %s event: %w", typ, err)
	}
	u := containerURL(ns, c)
	u.Path, u.Content, u.Version = o.Name, o.ContentID, strconv.FormatInt(o.Version, 10)
	zero, one := 0, 1
	return event.Event{Type: typ, When: when, URL: u, RequestID: reqID, Part: &zero,
		Parts: &one, Data: data}, nil
}

// ContainerEvent returns a container event about c. New and update events
// carry its system and user properties; a deletion carries its (zeroed)
// counters.
func ContainerEvent(typ, ns string, c *Container, when int64, reqID string) (event.Event, error) {
	var payload any
	if typ == event.ContainerDeleted {
		payload = map[string]any{"bucket": c.Name, "policy": c.StoragePolicy(),
			"ctime": c.CTime, "bytes-count": 0, "object-count": 0,
			"bytes-details": map[string]int64{}, "objects-details": map[string]int64{}}
	} else {
		payload = map[string]any{"system": orEmpty(c.System),
			"properties": orEmpty(c.Properties), "peers": []string{}, "bucket": c.Name}
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return event.Event{}, fmt.Errorf("encode %s event: %w", typ, err)
	}
	return event.Event{Type: typ, When: when, URL: containerURL(ns, c), RequestID: reqID,
		Data: data}, nil
}

func containerURL(ns string, c *Container) *event.URL {
	return &event.URL{NS: ns, Account: c.Account, User: c.Name, ID: c.ID, Bucket: c.Name}
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
