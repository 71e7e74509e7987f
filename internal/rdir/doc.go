// Package rdir is the reverse index of chunk volumes: for each volume, one
// record per chunk saying which container, object and version the chunk
// belongs to. It is fed from chunk events (ApplyChunkEvents) and read by
// the integrity checker, the converter and the rebuilder, which lose the
// forward path from a volume to its objects when a disk dies.
//
// The package holds the Store interface and its SQLite implementation
// (one database file for all volumes), the HTTP service speaking OpenIO's
// rdir protocol (NewHandler), a client of that protocol which is itself a
// Store (Client), and paging helpers (All, FullStatus). Package rdirtest
// is the conformance suite of Store implementations.
//
// # Records and keys
//
// A record is listed under the key "<CONTAINERID>|<CHUNKID>", both ids in
// uppercase hexadecimal (the container id has 64 digits), with the value
// {"content_id", "mtime", "path", "version"}. mtime is in seconds; chunk
// events carry microseconds. Listings are in increasing byte order of
// keys: Marker lists only keys strictly greater than it, Prefix only keys
// starting with it (a container id or a prefix of one). A page is
// truncated when more matching records follow it; its marker is then the
// key of its last record. With Rebuild, only records not newer than the
// volume's incident date are listed, and nothing without one.
//
// # HTTP protocol
//
// Every route is under /v1/rdir/ and takes the volume id in the query
// parameter vol. JSON replies have Content-Type application/json exactly;
// errors reply {"status": <code>, "message": "..."} with code the HTTP
// status: 400 for malformed input, 403 for a volume locked by another
// owner, 404 for an unknown volume or route, 405 for a wrong method, 413
// for a body over the bound. A request that fails changes nothing.
//
//	POST   create                    201
//	POST   push[?create=true]        record or array of records, all six
//	                                 fields mandatory; 204
//	DELETE delete                    {"container_id","chunk_id"} or array; 204
//	GET    fetch (or POST)           max|limit, marker, prefix, rebuild,
//	                                 chunk_id, content_id, order;
//	                                 200 [["<key>", value], ...]
//	GET    status (or POST)          max|limit, marker, prefix, chunk_id,
//	                                 content_id; 200
//	                                 {"chunk":{"total"[,"to_rebuild"]},
//	                                  "container":{"<CID>":{...}}
//	                                  [,"rebuild":{"incident_date"}]}
//	GET    admin/incident            200 {"date": <seconds, 0 if unset>}
//	POST   admin/incident[?create=]  {"date": <seconds>}; 204
//	POST   admin/lock[?create=]      {"who": "<owner>"}; 204, 403
//	POST   admin/unlock              204
//	GET    admin/show                200 {"incident_date":"<s>","lock":"<owner>"}
//	                                 (keys present when set, string values)
//	POST   admin/clear               all, before_incident, repair;
//	                                 200 {"removed","repaired","errors"}
//
// Listings reply x-oio-list-truncated: true|false, and x-oio-list-marker
// when truncated. fetch still reads the listing parameters older clients
// put in a JSON body (start_after, limit, container_id, rebuild); query
// parameters win. Booleans are read as OpenIO does, regardless of case
// ("True", "yes", "1", ...).
//
// # Differences from OpenIO
//
//   - Ids are validated and uppercased (container ids 64 hexadecimal
//     digits, chunk ids 24 to 64, content ids up to 64) and paths longer
//     than 1087 bytes are refused, where OpenIO stores any string and
//     silently truncates long ones. A request with one bad record changes
//     nothing.
//   - A marker is exclusive as a whole string; OpenIO also skips the first
//     key that merely starts with a marker that is not a whole key.
//   - Records are stored only under the current key format, so
//     admin/clear?repair=true has nothing to repair.
//   - fetch and status also take chunk_id and content_id, which select
//     the records of one chunk id or one content through an index: the
//     checker and the rebuilder look a chunk or an object up on a volume
//     without listing it whole; order=chunk_id lists in chunk id order
//     (then key order; the marker is still a key), the order of a chunk
//     server's listing, so that the checker walks a volume and its index
//     in step. OpenIO's rdir has neither.
//   - The meta2 routes (/v1/rdir/meta2/...) and the service routes (/info,
//     /status, /config) are not served.
package rdir
