// Package rebuild re-creates lost or corrupt copies of replicated chunks
// from a verified copy of the same metachunk, and removes orphan chunks.
// Its entries (integrity.RebuildEntry) come from the checker's rebuild
// file, from storage.content.broken events (Step), or from the reverse
// index of a lost volume (VolumeEntries).
//
// # Rebuilding one entry
//
// An entry names a chunk by URL, or a metachunk position whose copies the
// directory lacks. The object is located afresh, then:
//
//  1. The named copy is checked: its chunk server re-hashes it and its
//     attributes are compared with the directory. A healthy copy needs
//     nothing but its reverse index record, added if missing (Reindexed,
//     else Healthy). A copy the server does not answer for is left alone,
//     unless its volume is one of Options.LostVolumes.
//  2. Sources are the other copies of the metachunk whose attributes
//     agree with the directory, then the copies, the named one included,
//     whose data its chunk server re-hashes to the directory's size and
//     hash whatever their attributes say: wrong attributes lose no data,
//     and such a copy is replaced like a corrupt one once a new copy is
//     made from it. Failing any, or when every one fails as it is
//     copied (step 4: a copy whose attributes agree is not re-hashed
//     first, and its data may be damaged all the same), the reverse
//     index of every live chunk server is asked for the object's chunks
//     (a lookup by content id, and under the listed chunk ids): an
//     unlisted copy whose data re-hashes to the position's size and hash
//     in the directory, whatever its attributes say, its position
//     attribute included (left by a lost directory entry, or copied by
//     hand), is recorded as it is in place of the bad copy when
//     its server holds no other copy of the position (Recorded), or else
//     copied from. A copy so recorded whose attributes are wrong is then
//     a listed copy to replace, from itself if need be (Rebuilt): one run
//     leaves the position healthy. No source means the entry is
//     irreparable and skipped.
//  3. A copy that is gone from a live chunk server fit to take it (a
//     deleted file, a replaced disk) goes back in its place, under its
//     own id. Otherwise, or failing that, the target is a live chunk
//     server holding no copy of the metachunk, chosen in an order fixed by
//     the chunk id; failing one, the bad copy's own server, under a
//     derived id when the bad copy is still there.
//  4. A source is streamed to the target with the directory's hash,
//     which the target's chunk server checks as it writes; a source whose
//     data does not match is passed over. The new copy's attributes are
//     then checked. A chunk already at the target that verifies as the
//     copy is taken as it is, and the entry is Recorded, not Rebuilt;
//     should the directory fail to record it (step 5), it is left in
//     place, where a copy the rebuild wrote would be deleted.
//  5. The directory replaces the bad copy's entry with the new one in one
//     update that fails if the entry changed meanwhile (meta.ChunkUpdate),
//     so two entries for one copy never exist.
//  6. The bad copy is deleted and the reverse index brought in step.
//
// # Unlisted chunks
//
// An entry whose chunk its object does not list, or that names a chunk by
// URL alone, goes through one decision, whatever the entry came from. The
// owners named by the entry, the chunk's fullpath attribute, every record
// of the chunk id in its volume's reverse index and every directory entry
// of the chunk id that names this chunk (meta.Store.ChunkOwners, however
// its URL is spelled) are looked up:
//
//   - An owner that lists the chunk (same chunk id on the same service)
//     has it rebuilt as above: a chunk the directory lists is never
//     deleted as an orphan, whatever its attributes say.
//   - A chunk that is gone needs nothing but its reverse index records
//     removed; running an entry again after it was repaired is a no-op.
//     That takes an owner to know that nothing lists it: a chunk that is
//     gone, named by URL alone and that its volume's reverse index has no
//     record of is Unknown (not a success), the object that listed it
//     being the one to check. A copy named by URL alone once it was
//     replaced is such a chunk: its record went with it.
//   - An owner that exists and lists the same chunk id at another URL (a
//     copy moved by a rebuild) lets the chunk be deleted, as an extra copy
//     (ExtraRemoved, naming the listed copy), only when every position of
//     the object has all its copies healthy, those at the chunk's position
//     re-hashed. When the listed copy is lost or damaged (the report says
//     which) and this chunk verifies against its entry (attributes, size
//     and hash, data re-hashed), the directory records this chunk in its
//     place instead (Recorded: nothing is copied, and it is counted apart
//     from the copies rebuilt).
//   - Any other owner that exists, an unreadable fullpath attribute, or no
//     owner known at all keeps the chunk: it is reported as Kept for
//     someone to look at.
//
// Only a chunk whose every named owner is gone, or complete without it,
// is deleted, and only once older than Options.OrphanMinAge. An upload
// still running when its first chunks are that old would lose them, so
// the age must exceed the longest upload (an hour by default). A new copy
// is never written over a chunk already at its target that does not
// verify, and a replaced copy is deleted only once the directory, read
// again, no longer lists it.
//
// # Interruptions
//
// A rebuild stopped at any point converges when run again: a copy written
// but not yet recorded is found at the same target (step 3) and adopted
// once verified (Recorded); a bad copy recorded as replaced but not yet deleted is
// an orphan of its entry and deleted then.
//
// Once the context of a run is done, whatever pacing it waits on, no entry
// is started and Run.Process returns the context's error. An entry under
// way that did not end well is Interrupted rather than Failed, Irreparable
// or Kept: its requests and pacing failed because of the stop, and copies
// it could not reach then are not known to be lost.
//
// # Surplus copies
//
// A position entry whose object lists more copies there than its policy
// keeps has the surplus removed, once as many copies as the policy keeps
// are healthy (re-hashed) on distinct chunk servers: the copies that are
// not, then those sharing a server, then the last in URL order. Each is
// dropped from the directory before its chunk is deleted (ExtraRemoved).
// With too few healthy copies nothing is removed (Kept).
//
// TODO(#3): erasure-coded chunks are not rebuilt; the directory has no EC
// policy yet.
package rebuild
