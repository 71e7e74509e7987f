// Package chunk defines how a chunk of object data is stored on a gridkeep
// or OpenIO SDS volume: chunk ids, where a chunk file lives on its volume,
// the metadata kept in its extended attributes (current and legacy
// formats), the fullpath that names its owner, and the volume identity.
//
// # Volume layout
//
// A volume is a directory. Each chunk is one regular file named by its id
// (24 to 64 hexadecimal characters, uppercase), inside depth levels of
// directories whose names are the leading width characters of the id
// (default width 3, depth 1):
//
//	<volume>/                       user.server.ns, .type ("rawx"), .id
//	├── E4A/
//	│   ├── E4A1…7882               a chunk: data bytes + user.* xattrs
//	│   └── E4A1…7883.pending       an upload in progress (never listed)
//	├── non_optimal_placement/      symlinks to chunks placed sub-optimally
//	└── orphans/
//
// Uploads write <id>.pending with O_EXCL, set the extended attributes on it,
// then rename it to <id>; a rename over an existing chunk is refused.
//
// # Chunk metadata, current format
//
// All metadata is in extended attributes of the "user." namespace; values
// are raw bytes with no terminating NUL. Names below omit "user.".
//
//	oio.content.fullpath:<ID>   account/container/path/version/content_id,
//	                            each field percent-encoded (see Fullpath)
//	grid.chunk.position         "N" (replicated) or "N.M" (EC fragment M)
//	grid.chunk.size             decimal size of the data in this file
//	grid.chunk.hash             uppercase hex digest of this file's data
//	grid.content.chunk_method   e.g. "plain/cca=blake3,nb_copy=3"
//	grid.content.storage_policy e.g. "THREECOPIES"
//	grid.metachunk.size         EC: size of the metachunk's original data
//	grid.metachunk.hash         EC: digest of the metachunk's original data
//	grid.compression            "zlib", "lzw" or "deflate"; absent = none
//	oio.ext.<Key>               extra properties
//	grid.oio.version            "4.2" on chunks written 2018-2023; ignored
//
// A hard link (a shallow copy made by COPY) shares the inode, and so the
// attributes, of the chunk it copies: each name gets its own
// oio.content.fullpath:<ID> key, and the keys of the other names are the
// chunk's links.
//
// # Legacy formats
//
// Older chunk servers described the owner with separate keys, which this
// package reads and reports as Legacy:
//
//	era             owner keys                                   grid.oio.version
//	before 2017-06  grid.chunk.id, grid.content.container (CID), none
//	                grid.content.path, .version, .id
//	2017-06..11     same + "oio:<acct>/<ctr>/<path>/<version>"   "4.0"
//	                (old fullpath in the name, empty value)
//	2017-11..2018-06 same + "oio:<SHA256 of old fullpath>" whose "4.0"
//	                value is the old fullpath
//	2018-06..       current format                               "4.2", then none
//
// Old fullpaths have four fields, account/container/path/version, each
// encoded like Python's quote_plus (space is "+"), and no content id.
// Legacy grid.chunk.id values were not uppercased by their writer and are
// compared case-sensitively with the file name.
package chunk
