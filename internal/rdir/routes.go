package rdir

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
)

// This file holds one method per rdir route.

func (h *handler) create(ctx context.Context, rq request) reply {
	return result(http.StatusCreated, nil, h.store.CreateVolume(ctx, rq.vol))
}

// push validates every record before it creates the volume or writes.
func (h *handler) push(ctx context.Context, rq request) reply {
	recs, err := decodeRecords(rq.body)
	if err != nil {
		return storeErrorReply(err)
	}
	if err := h.autocreate(ctx, rq); err != nil {
		return storeErrorReply(err)
	}
	if err := h.store.Push(ctx, rq.vol, recs); err != nil {
		return storeErrorReply(err)
	}
	h.metrics.records.WithLabelValues("pushed").Add(float64(len(recs)))
	return reply{status: http.StatusNoContent}
}

func (h *handler) delete(ctx context.Context, rq request) reply {
	refs, err := decodeRefs(rq.body)
	if err != nil {
		return storeErrorReply(err)
	}
	if err := h.store.Delete(ctx, rq.vol, refs); err != nil {
		return storeErrorReply(err)
	}
	h.metrics.records.WithLabelValues("deleted").Add(float64(len(refs)))
	return reply{status: http.StatusNoContent}
}

func (h *handler) fetch(ctx context.Context, rq request) reply {
	opts, err := listOptions(rq, true)
	if err != nil {
		return storeErrorReply(err)
	}
	page, err := h.store.Fetch(ctx, rq.vol, opts)
	if err != nil {
		return storeErrorReply(err)
	}
	return reply{status: http.StatusOK, body: encodePage(page),
		header: listingHeader(page.Truncated, page.Marker)}
}

func (h *handler) status(ctx context.Context, rq request) reply {
	opts, err := listOptions(rq, false)
	if err != nil {
		return storeErrorReply(err)
	}
	st, err := h.store.Status(ctx, rq.vol, opts)
	if err != nil {
		return storeErrorReply(err)
	}
	return reply{status: http.StatusOK, body: encodeStatus(st),
		header: listingHeader(st.Truncated, st.Marker)}
}

func listingHeader(truncated bool, marker string) http.Header {
	h := http.Header{}
	h[HeaderListTruncated] = []string{strconv.FormatBool(truncated)}
	if truncated {
		h[HeaderListMarker] = []string{marker}
	}
	return h
}

// listOptions reads the listing parameters: max (or limit), marker,
// prefix, rebuild, chunk_id, content_id and order from the query, and with legacy set the body keys
// start_after, limit, container_id and rebuild, which the query overrides.
func listOptions(rq request, legacy bool) (ListOptions, error) {
	var opts ListOptions
	if legacy {
		var err error
		if opts, err = legacyListOptions(rq.body); err != nil {
			return ListOptions{}, err
		}
	}
	q := rq.query
	if q.Has("marker") {
		opts.Marker = q.Get("marker")
	}
	if q.Has("prefix") {
		opts.Prefix = q.Get("prefix")
	}
	opts.ChunkID, opts.ContentID = q.Get("chunk_id"), q.Get("content_id")
	switch order := q.Get("order"); order {
	case "", "key":
	case "chunk_id":
		opts.ByChunk = true
	default:
		return ListOptions{}, invalidf("order %q: want key or chunk_id", clip(order))
	}
	for _, name := range []string{"limit", "max"} {
		if !q.Has(name) {
			continue
		}
		n, err := strconv.Atoi(q.Get(name))
		if err != nil {
			return ListOptions{}, invalidf("parameter %s is not an integer", name)
		}
		opts.Limit = n
	}
	if q.Has("rebuild") {
		var err error
		if opts.Rebuild, err = parseBool(q, "rebuild"); err != nil {
			return ListOptions{}, err
		}
	}
	return opts, nil
}

func legacyListOptions(body []byte) (ListOptions, error) {
	var opts ListOptions
	if len(bytes.TrimSpace(body)) == 0 {
		return opts, nil
	}
	var w *wireFetchBody
	if err := json.Unmarshal(body, &w); err != nil || w == nil {
		return opts, invalidf("fetch body must be a JSON object of listing parameters")
	}
	if w.StartAfter != nil {
		opts.Marker = *w.StartAfter
	}
	if w.Limit != nil {
		opts.Limit = int(min(max(*w.Limit, -1), MaxLimit))
	}
	if w.ContainerID != nil {
		opts.Prefix = *w.ContainerID
	}
	if w.Rebuild != nil {
		opts.Rebuild = *w.Rebuild
	}
	return opts, nil
}

func (h *handler) incident(ctx context.Context, rq request) reply {
	if rq.method == http.MethodGet {
		date, err := h.store.IncidentDate(ctx, rq.vol)
		return result(http.StatusOK, map[string]int64{"date": date}, err)
	}
	var w wireDate
	if err := json.Unmarshal(rq.body, &w); err != nil || w.Date == nil {
		return storeErrorReply(invalidf(`body must be {"date": <integer>}`))
	}
	if *w.Date < 0 {
		return storeErrorReply(invalidf("negative incident date %d", *w.Date))
	}
	if err := h.autocreate(ctx, rq); err != nil {
		return storeErrorReply(err)
	}
	return result(http.StatusNoContent, nil, h.store.SetIncidentDate(ctx, rq.vol, int64(*w.Date)))
}

func (h *handler) lock(ctx context.Context, rq request) reply {
	var w wireLock
	if err := json.Unmarshal(rq.body, &w); err != nil || w.Who == nil {
		return storeErrorReply(invalidf(`body must be {"who": <string>}`))
	}
	if err := validateOwner(*w.Who); err != nil {
		return storeErrorReply(err)
	}
	if err := h.autocreate(ctx, rq); err != nil {
		return storeErrorReply(err)
	}
	return result(http.StatusNoContent, nil, h.store.Lock(ctx, rq.vol, *w.Who))
}

func (h *handler) unlock(ctx context.Context, rq request) reply {
	return result(http.StatusNoContent, nil, h.store.Unlock(ctx, rq.vol))
}

func (h *handler) show(ctx context.Context, rq request) reply {
	a, err := h.store.Show(ctx, rq.vol)
	return result(http.StatusOK, encodeAdmin(a), err)
}

func (h *handler) clear(ctx context.Context, rq request) reply {
	var opts ClearOptions
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"all", &opts.All}, {"before_incident", &opts.BeforeIncident}, {"repair", &opts.Repair}} {
		var err error
		if *f.dst, err = parseBool(rq.query, f.name); err != nil {
			return storeErrorReply(err)
		}
	}
	res, err := h.store.Clear(ctx, rq.vol, opts)
	return result(http.StatusOK, wireClear(res), err)
}
