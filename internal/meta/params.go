package meta

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// containerRef names the container of a request: by account and name
// ("acct" and "ref"), or by id alone ("cid").
type containerRef struct {
	cid     string
	account string
	name    string
}

// parseRef reads the container of a request; withNames requires the
// account and container names (to create a container).
func parseRef(q url.Values, withNames bool) (containerRef, error) {
	acct, ref, cid := q.Get("acct"), q.Get("ref"), q.Get("cid")
	if cid != "" && acct == "" && ref == "" && !withNames {
		return parseCID(cid)
	}
	if err := CheckAccount(acct); err != nil {
		return containerRef{}, err
	}
	if err := CheckContainer(ref); err != nil {
		return containerRef{}, err
	}
	return containerRef{cid: chunk.ContainerID(acct, ref), account: acct, name: ref}, nil
}

// parseCID accepts a container id, or a base name "<CID>.<seq>".
func parseCID(cid string) (containerRef, error) {
	cid, _, _ = strings.Cut(cid, ".")
	if !chunk.IsContainerID(cid) {
		return containerRef{}, fmt.Errorf("%w: container id %q", ErrInvalid, short(cid))
	}
	return containerRef{cid: strings.ToUpper(cid)}, nil
}

// boolParam reads a boolean query parameter ("True", "false", "1"...).
func boolParam(q url.Values, name string, def bool) (bool, error) {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return def, nil
	}
	b, err := ParseBool(v[0])
	if err != nil {
		return false, fmt.Errorf("parameter %s: %w", name, err)
	}
	return b, nil
}

// intParam reads an integer query parameter at least min.
func intParam(q url.Values, name string, def, min int64) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min {
		return 0, fmt.Errorf("%w: parameter %s=%q", ErrInvalid, name, short(v))
	}
	return n, nil
}

// autocreate reports whether the request asks for missing containers to be
// created.
func autocreate(r *http.Request) bool {
	for _, v := range r.Header.Values("X-Oio-Action-Mode") {
		if strings.Contains(strings.ToLower(v), "autocreate") {
			return true
		}
	}
	return false
}

// pageParams reads listing bounds: limit (or max), marker, end_marker and
// prefix.
func pageParams(q url.Values) (PageOptions, error) {
	limit, err := intParam(q, "limit", 0, 0)
	if err != nil {
		return PageOptions{}, err
	}
	if limit == 0 {
		if limit, err = intParam(q, "max", 0, 0); err != nil {
			return PageOptions{}, err
		}
	}
	return PageOptions{Prefix: q.Get("prefix"), Marker: q.Get("marker"),
		EndMarker: q.Get("end_marker"), Limit: int(min(limit, MaxListLimit))}, nil
}

// itoa formats a decimal integer.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
