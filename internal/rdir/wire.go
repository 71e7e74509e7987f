package rdir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// This file holds the JSON shapes of the OpenIO rdir protocol.

// wireInt is a JSON integer: strings and fractions are refused, like the
// OpenIO rdir refuses them.
type wireInt int64

// UnmarshalJSON accepts only an integer literal.
func (n *wireInt) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("%s is not an integer", clip(string(b)))
	}
	*n = wireInt(v)
	return nil
}

// wireRecord is a pushed or deleted record. Pointers tell missing fields
// from empty ones.
type wireRecord struct {
	ContainerID *string  `json:"container_id"`
	ChunkID     *string  `json:"chunk_id"`
	ContentID   *string  `json:"content_id"`
	Path        *string  `json:"path"`
	Version     *wireInt `json:"version"`
	Mtime       *wireInt `json:"mtime"`
}

// record converts w, all of whose fields are mandatory.
func (w wireRecord) record() (Record, error) {
	fields := []struct {
		name    string
		missing bool
	}{
		{"container_id", w.ContainerID == nil}, {"chunk_id", w.ChunkID == nil},
		{"content_id", w.ContentID == nil}, {"path", w.Path == nil},
		{"version", w.Version == nil}, {"mtime", w.Mtime == nil},
	}
	for _, f := range fields {
		if f.missing {
			return Record{}, invalidf("missing field %q", f.name)
		}
	}
	return Record{ContainerID: *w.ContainerID, ChunkID: *w.ChunkID, ContentID: *w.ContentID,
		Path: *w.Path, Version: int64(*w.Version), Mtime: int64(*w.Mtime)}, nil
}

// ref converts w, whose key fields are mandatory.
func (w wireRecord) ref() (ChunkRef, error) {
	if w.ContainerID == nil || w.ChunkID == nil {
		return ChunkRef{}, invalidf("container_id and chunk_id are mandatory")
	}
	return ChunkRef{ContainerID: *w.ContainerID, ChunkID: *w.ChunkID}, nil
}

// decodeWireRecords decodes a body holding one JSON object or an array of
// them.
func decodeWireRecords(body []byte) ([]wireRecord, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, invalidf("empty body")
	}
	var ws []wireRecord
	var err error
	switch body[0] {
	case '{':
		ws = make([]wireRecord, 1)
		err = json.Unmarshal(body, &ws[0])
	case '[':
		err = json.Unmarshal(body, &ws)
	default:
		return nil, invalidf("body must be a JSON array or object")
	}
	if err != nil {
		return nil, invalidf("bad JSON body: %v", err)
	}
	return ws, nil
}

func decodeRecords(body []byte) ([]Record, error) {
	ws, err := decodeWireRecords(body)
	if err != nil {
		return nil, err
	}
	recs := make([]Record, len(ws))
	for i, w := range ws {
		if recs[i], err = w.record(); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
	}
	return normalizeRecords(recs)
}

func decodeRefs(body []byte) ([]ChunkRef, error) {
	ws, err := decodeWireRecords(body)
	if err != nil {
		return nil, err
	}
	refs := make([]ChunkRef, len(ws))
	for i, w := range ws {
		if refs[i], err = w.ref(); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		if refs[i], err = refs[i].Normalize(); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
	}
	return refs, nil
}

// encodeRecord returns the push body of r.
func encodeRecord(r Record) wireRecord {
	v, m := wireInt(r.Version), wireInt(r.Mtime)
	return wireRecord{ContainerID: &r.ContainerID, ChunkID: &r.ChunkID, ContentID: &r.ContentID,
		Path: &r.Path, Version: &v, Mtime: &m}
}

// wireValue is the value of a listed record.
type wireValue struct {
	ContentID string `json:"content_id"`
	Mtime     int64  `json:"mtime"`
	Path      string `json:"path"`
	Version   int64  `json:"version"`
}

// wireEntry is a listed record: ["<CID>|<CHUNKID>", value].
type wireEntry [2]any

func encodePage(p Page) []wireEntry {
	entries := make([]wireEntry, len(p.Records))
	for i, r := range p.Records {
		entries[i] = wireEntry{r.Key(), wireValue{ContentID: r.ContentID, Mtime: r.Mtime,
			Path: r.Path, Version: r.Version}}
	}
	return entries
}

// wireEntryIn decodes a listed record.
type wireEntryIn struct {
	key   string
	value wireValue
}

// UnmarshalJSON decodes ["<key>", value] in place.
func (e *wireEntryIn) UnmarshalJSON(b []byte) error {
	return json.Unmarshal(b, &[2]any{&e.key, &e.value})
}

// decodePage decodes a fetch reply body.
func decodePage(body []byte) ([]Record, error) {
	var entries []wireEntryIn
	if err := json.Unmarshal(body, &entries); err != nil {
		return nil, err
	}
	recs := make([]Record, len(entries))
	for i, e := range entries {
		ref, err := ParseKey(e.key)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		v := e.value
		recs[i] = Record{ContainerID: ref.ContainerID, ChunkID: ref.ChunkID,
			ContentID: v.ContentID, Path: v.Path, Version: v.Version, Mtime: v.Mtime}
	}
	return recs, nil
}

// wireCounts is a status count; to_rebuild is present only with an
// incident date.
type wireCounts struct {
	Total     int64  `json:"total"`
	ToRebuild *int64 `json:"to_rebuild,omitempty"`
}

type wireIncident struct {
	IncidentDate int64 `json:"incident_date"`
}

// wireStatus is the status reply.
type wireStatus struct {
	Chunk     wireCounts            `json:"chunk"`
	Container map[string]wireCounts `json:"container"`
	Rebuild   *wireIncident         `json:"rebuild,omitempty"`
}

// encodeStatus shapes st like OpenIO: to_rebuild totals only with an
// incident date, and per container only where it is not zero.
func encodeStatus(st Status) wireStatus {
	w := wireStatus{Chunk: wireCounts{Total: st.Chunk.Total},
		Container: make(map[string]wireCounts, len(st.Containers))}
	if st.IncidentDate > 0 {
		w.Chunk.ToRebuild = &st.Chunk.ToRebuild
		w.Rebuild = &wireIncident{IncidentDate: st.IncidentDate}
	}
	for cid, c := range st.Containers {
		wc := wireCounts{Total: c.Total}
		if c.ToRebuild > 0 {
			wc.ToRebuild = &c.ToRebuild
		}
		w.Container[cid] = wc
	}
	return w
}

func (w wireStatus) status() Status {
	st := Status{Chunk: w.Chunk.counts(), Containers: make(map[string]Counts, len(w.Container))}
	if w.Rebuild != nil {
		st.IncidentDate = w.Rebuild.IncidentDate
	}
	for cid, c := range w.Container {
		st.Containers[cid] = c.counts()
	}
	return st
}

func (w wireCounts) counts() Counts {
	c := Counts{Total: w.Total}
	if w.ToRebuild != nil {
		c.ToRebuild = *w.ToRebuild
	}
	return c
}

// encodeAdmin shapes a like OpenIO's admin/show: the admin keys present,
// every value a string.
func encodeAdmin(a Admin) map[string]string {
	m := map[string]string{}
	if a.IncidentDate > 0 {
		m["incident_date"] = strconv.FormatInt(a.IncidentDate, 10)
	}
	if a.Lock != "" {
		m["lock"] = a.Lock
	}
	return m
}

func decodeAdmin(m map[string]string) (Admin, error) {
	a := Admin{Lock: m["lock"]}
	if d, ok := m["incident_date"]; ok {
		var err error
		if a.IncidentDate, err = strconv.ParseInt(d, 10, 64); err != nil {
			return Admin{}, fmt.Errorf("bad incident date %q", clip(d))
		}
	}
	return a, nil
}

type wireClear struct {
	Removed  int64 `json:"removed"`
	Repaired int64 `json:"repaired"`
	Errors   int64 `json:"errors"`
}

type wireDate struct {
	Date *wireInt `json:"date"`
}

type wireLock struct {
	Who *string `json:"who"`
}

// wireFetchBody holds the listing parameters older clients sent in the
// body of a fetch.
type wireFetchBody struct {
	StartAfter  *string  `json:"start_after"`
	Limit       *wireInt `json:"limit"`
	ContainerID *string  `json:"container_id"`
	Rebuild     *bool    `json:"rebuild"`
}

// wireError is the body of every error reply.
type wireError struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}
