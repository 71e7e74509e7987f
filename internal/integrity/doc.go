// Package integrity is the integrity checker: it walks a namespace from
// accounts down to chunks, and chunk server volumes from the bottom up,
// and reports every item that is damaged, missing or inconsistent, with
// what is wrong. It keeps going after a finding; each finding is a Result
// naming its item and carrying its errors, and whether no surviving copy
// can repair it.
//
// # What is checked
//
//	account    its container listing can be read (a missing account is
//	           "Not found")
//	container  it is in its account's listing ("Missing from account
//	           listing"); its object listing, every version, can be read
//	object     it is in its container's listing ("Missing from container
//	           listing"); its metachunks are positions 0..N-1 whose sizes
//	           add up to the object's; per position, copies missing from
//	           the directory ("Missing chunk at position P", an error of
//	           the object and a chunk finding named "position P of
//	           ACCOUNT/CONTAINER/OBJECT"), surplus copies ("n chunks
//	           at position P, expected R", likewise both), unusable
//	           copies, and "Unavailable metachunk" when no copy is usable,
//	           which makes the object and its chunk findings irreparable;
//	           a copy whose only findings are about its attributes is
//	           "Damaged", and usable when Checksum found its data intact;
//	           without Checksum, a position whose copies are all missing,
//	           unusable or damaged so is "No copy verified", not
//	           irreparable: its data may be intact
//	chunk      its chunk server has it ("Not found"); its attributes match
//	           the directory: fullpath (account, container, path, version,
//	           content id), position, size, hash, storage policy, chunk
//	           method ("Faulty" when one is missing, "malformed" when the
//	           fullpath does not parse: the owner is then looked up in the
//	           reverse index); with Checksum, the server re-reads its data,
//	           which must match the size and hash the directory has of it,
//	           whatever its attributes say ("Corrupt", besides any attribute
//	           finding; a chunk no object lists has nothing to match and is
//	           not re-read)
//	volume     every chunk on it has an owner that lists it ("Orphan: ...",
//	           once older than Options.OrphanMinAge) and a reverse index
//	           record ("Missing from reverse index", however young the
//	           chunk, past a few seconds for the index to catch up); every
//	           record has its chunk or is "Stale reverse index record";
//	           a file named like a chunk in another directory than its
//	           id's, or not in uppercase, is a finding of the volume
//	           itself, by its path ("Misplaced chunk file: SERVICE:
//	           DIR/ID"), neither checked as a chunk nor repaired: no
//	           request by chunk id reaches it
//
// A chunk checked on its own (by URL, from the error file, in a volume
// walk) is checked against its owner: the object its target, its fullpath
// attribute or its reverse index record names and, when none of those lists
// it, the one whose directory entry does (meta.Store.ChunkOwners), before
// it is called an orphan. When it is damaged, the other copies
// its owner lists at its position are checked too, and it is irreparable
// when none of them is usable, as in a check of the object. An error file
// line whose last field is a metachunk position or a bare chunk id checks
// its object.
//
// Irreparable means that no copy of the position is usable: each copy the
// directory lists is missing, corrupt or unreadable, and no unlisted copy
// verifies. A copy whose attributes are wrong but whose data matches the
// directory's size and hash is usable (the rebuilder copies from it and
// replaces it), and one whose data was not re-read may be, so neither
// makes a position irreparable. When no listed copy is usable, the
// reverse index of every chunk server is asked for the object's chunks
// (by content id), and each unlisted one is re-hashed against the
// position's size and hash in the directory, with or without Checksum,
// whatever its attributes say, its position attribute included: one that
// matches (left by a lost directory entry, a rebuild or a move) is named
// in the object's errors ("Unlisted copy ... verifies"), and the
// rebuilder records it in place.
//
// Checking the whole namespace (a zero Target) walks every account, then
// the volume of every registered chunk server, skipping the chunks the
// first walk met; so it finds orphans too.
//
// A depth that stops at objects (Options.Depth) still checks each object
// against the directory's chunk list: positions present, missing or
// short of copies; only the chunk servers are not asked.
//
// # Findings and failed checks
//
// A finding (Result.Errors) is only ever about the data. A request that
// fails because the run ended (ctx done) or because the directory does not
// answer leaves the item unchecked (Result.Failed, Stats.Failed): that is
// no finding, never irreparable, never written to the error or rebuild
// files nor published, and a copy left unchecked may still be usable. The
// items whose check the end of the run cut short are not reported at all
// (Stats.Interrupted). A chunk server or reverse index that fails while
// the directory answers is a finding about that service's items
// ("Unavailable: ...").
//
// # Outputs
//
// Every reported result goes to Options.Report. Findings, and only they,
// also go, in OpenIO's formats, to the error file (WriteErrorLine;
// ReadTargets reads it back as targets), chunk findings to the rebuild
// file (WriteRebuildLine; ReadRebuildEntries reads it) and to the bus as
// storage.content.broken events (BrokenEvent; ParseBroken).
//
// # Differences from OpenIO's checker
//
//   - Every kind of finding counts in Stats.Problems, listing mismatches,
//     missing and surplus copies and attribute mismatches included, where
//     OpenIO's exit code only saw "not found" and exceptions.
//   - A finding waiting for confirmation (Options.Confirmations,
//     Options.TimeInError) whose item then checks OK is forgotten; OpenIO
//     kept checking it forever. A single Run re-checks pending findings
//     until each is reported or cleared instead of dropping them. Once
//     confirmed, a finding is reported at every Daemon pass while it
//     persists; it needs confirming again only after its item checked OK
//     or was not met in a pass.
//   - The error file's version column is read back as a version; OpenIO
//     took it for a chunk.
//   - Orphan chunks and the reverse index are checked, volume by volume.
//   - Erasure-coded objects are reported as not checkable (see Copies).
package integrity
