package meta

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// Header prefixes of the proxy API.
const (
	contentMetaPrefix   = "x-oio-content-meta-"
	containerMetaPrefix = "x-oio-container-meta-"
)

// contentMetaKeys are the x-oio-content-meta-* names that describe an
// object; any other name under the prefix is a property.
var contentMetaKeys = map[string]bool{
	"id": true, "name": true, "version": true, "policy": true, "target-policy": true,
	"chunk-method": true, "size": true, "length": true, "hash": true, "hash-method": true,
	"mime-type": true, "ctime": true, "mtime": true, "deleted": true,
}

// setContentHeaders writes an object's description as x-oio-content-meta-*
// headers, and its properties too when withProps.
func setContentHeaders(w http.ResponseWriter, o *Object, withProps bool) {
	set := func(k, v string) { setHeader(w, contentMetaPrefix+k, v) }
	set("id", o.ContentID)
	set("name", chunk.Quote(o.Name))
	set("version", strconv.FormatInt(o.Version, 10))
	set("policy", o.Policy)
	set("chunk-method", o.ChunkMethod)
	set("size", strconv.FormatInt(o.Size, 10))
	set("length", strconv.FormatInt(o.Size, 10))
	set("hash", o.Hash)
	set("hash-method", "md5")
	set("mime-type", o.MimeType)
	set("ctime", strconv.FormatInt(o.CTime, 10))
	set("mtime", strconv.FormatInt(o.MTime, 10))
	set("deleted", FormatBool(o.Deleted))
	if !withProps {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(o.Properties)) {
		if headerToken(k) && !contentMetaKeys[strings.ToLower(k)] {
			set(k, chunk.Quote(o.Properties[k]))
		}
	}
}

// setContainerHeaders writes a container's system properties as
// x-oio-container-meta-sys-* headers ("." becomes "-") and its user
// properties as x-oio-container-meta-user-*, values percent-encoded.
func setContainerHeaders(w http.ResponseWriter, c *Container) {
	for _, k := range slices.Sorted(maps.Keys(c.System)) {
		setHeader(w, containerMetaPrefix+headerName(k), chunk.Quote(c.System[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(c.Properties)) {
		setHeader(w, containerMetaPrefix+"user-"+headerName(k), chunk.Quote(c.Properties[k]))
	}
}

// headerName turns a property key into a header name fragment: every
// character but letters, digits and "-" becomes "-".
func headerName(k string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, k)
}

// headerToken reports whether k can be sent as a header name as it is.
func headerToken(k string) bool { return k != "" && headerName(k) == k }
