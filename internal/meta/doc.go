// Package meta is the gridkeep directory: accounts, containers (buckets)
// and their properties, object versions and where their chunks are, the
// registry of chunk servers and chunk placement, and the HTTP API that
// OpenIO SDS clients call (the proxy and account service routes), with a Go
// client of that API. It plays the parts of OpenIO's meta0/1/2, proxy,
// account service and conscience in one.
//
// Object data never passes through the directory: a client asks where to
// write (prepare), streams each metachunk to the chunk servers named, then
// commits the object (create). Readers locate the object, then read its
// chunks from the chunk servers.
//
// # Pieces
//
// Store keeps the metadata; package sqlstore implements it over SQLite and
// package metatest holds the conformance suite every implementation passes.
// Every change writes its OpenIO-shaped events (storage.container.*,
// storage.content.*; see ContentBeans) to the store's outbox in the same
// transaction; an event.Relay publishes them. Registry tracks chunk
// servers (and other services) by heartbeat and places the copies of each
// metachunk on distinct live servers with room, weighted by free space.
// Server serves the API over a Store and a Registry; Client calls it.
// Prepare reads containers from memory when it read them less than a
// second ago, as OpenIO's meta2 keeps open containers' admin tables: a
// change made through the Server is seen at once, one made to the Store
// behind its back within that second.
//
// # Identifiers
//
// A container id (CID) is chunk.ContainerID(account, container). A
// version is the creation time in microseconds; a content id is 32
// uppercase hex digits. Chunk ids are deterministic (ChunkID): the copies
// of one metachunk share their id, their URLs "http://<service id>/<id>"
// differ by server. Storage policies SINGLE, TWOCOPIES and THREECOPIES keep
// 1, 2 or 3 copies (chunk method "plain/nb_copy=N"); metachunks are 64 MiB
// unless the Namespace says otherwise.
//
// # Versioning
//
// A container's sys.m2.policy.version is -1 (keep every version), 0 or 1
// (keep the latest only: a new version replaces the others, a deletion
// removes the object), or N > 1 (keep N). In a versioned container,
// deleting the latest version adds a delete marker; deleting a given
// version removes it.
//
// # HTTP API
//
// Proxy routes are under /v3.0/<NS>/ and name the container with acct and
// ref (or cid), the object with path and version (or content):
//
//	POST container/create          body {"properties":{},"system":{}}; 201, or 204 if it existed
//	GET  container/show            {"properties"}; system properties in
//	                               x-oio-container-meta-sys-* headers
//	POST container/get_properties  body [] or keys; {"properties","system"}
//	POST container/set_properties  body {"properties","system"}, flush=1 replaces; 204
//	POST container/del_properties  body [keys]; 204
//	GET  container/list            max, marker, end_marker, prefix, delimiter, all=1,
//	                               version_marker, deleted=1, properties, chunks;
//	                               {"prefixes","properties","system","objects"},
//	                               headers x-oio-list-truncated, x-oio-list-marker
//	POST container/destroy         204; 409 unless empty
//	POST container/raw_update      body {"old":[chunk],"new":[chunk]}, at most one
//	                               chunk bean {"id","pos","size","hash","content"}
//	                               in each: replace, add or remove one chunk entry
//	                               (see ChunkUpdate); 204, 412 if it does not fit
//	GET  chunk/owners              id=<chunk id>; [{"cid","content","chunk"}]: the
//	                               entries of that chunk id in any container, however
//	                               their URL is spelled (a gridkeep route)
//	POST content/prepare2          body {"size","position","policy"}, version=;
//	                               {"chunks","properties"}, x-oio-content-meta-* and
//	                               x-oio-ns-chunk-size headers (content/prepare: chunks only)
//	POST content/create            x-oio-content-meta-{length,hash,id,version,policy,
//	                               chunk-method,mime-type}; body {"chunks","properties"}; 204
//	GET  content/locate            (or content/show) properties=, deleted=; chunk array,
//	                               object in x-oio-content-meta-* headers
//	POST content/get_properties    {"properties"} and x-oio-content-meta-* headers
//	POST content/set_properties    body {"properties"}, flush=1 replaces; 204
//	POST content/del_properties    body [keys]; 204
//	POST content/delete            204, x-oio-delete-marker and x-oio-version-id
//	POST conscience/register       a service {"type","id","addr","volume","free",
//	                               "total","tags"} or an array; 204
//	POST conscience/heartbeat      {"type","id","free","total"}; 204, 404 if unknown
//	POST conscience/deregister     {"type","id"}; 204
//	GET  conscience/list           type=; services with "addr","score","tags","alive"...
//	GET  conscience/resolve        type=, service_id=; {"addr"}
//	GET  lb/choose                 type=account|rdir|rawx, size=; [{"addr",...}]
//	GET  reference/show            acct=_RDIR&ref=<volume>&type=rdir: the rdir in
//	                               "srv"; cid=: the container's "account" and "name"
//
// Account service routes are under /v1.0/:
//
//	GET  account/show              id=; {"id","ctime","mtime","containers","objects","bytes",...}
//	PUT  account/create            id=; 201, or 202 if it existed
//	GET  account/list              accounts
//	GET  account/containers        id=, limit, marker, end_marker, prefix; the account and
//	                               "listing" rows [name, objects, bytes, 0, mtime]
//	GET  account/container/show    id=, container=; counters and "replication_enabled"
//	GET  bucket/show               id=<bucket>[, account=]; counters and "metadata"
//	PUT  bucket/update             body {"metadata":{},"to_delete":[]}
//
// JSON replies carry exactly "Content-Type: application/json". Errors are
// {"status":<OpenIO code>,"message":...}: 400 for bad input (code 480 for
// an unknown policy), 404 with 431 for a missing container, 420 for a
// missing object, 409 for an unknown account, 405 for an unknown service;
// 409 for a version that exists (421) or a container not empty (438); 413
// for oversized bodies or headers; 503 (481) when too few chunk servers
// are usable; 412 for a chunk update that does not fit the object.
// Boolean parameters accept "True"/"False" in any case and 1/0. The
// x-oio-action-mode: autocreate header makes prepare and create create a
// missing container. The request id (x-oio-req-id) is echoed and
// names the events of the request. Every request is logged through the
// server's slog.Logger and counted in the Prometheus metrics served on
// GET /metrics (requests and latency by route and code, registered
// services by type and liveness).
//
// Property headers of locate replies can be many; clients that fear
// header limits ask properties=False and use get_properties.
package meta
