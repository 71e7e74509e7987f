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
//     nothing (its reverse index record is added if missing). A copy the
//     server does not answer for is left alone, unless its volume is one
//     of Options.LostVolumes.
//  2. Sources are the other copies of the metachunk whose attributes
//     agree with the directory; none means the entry is irreparable and
//     skipped.
//  3. The target is a live chunk server holding no copy of the
//     metachunk, chosen in an order fixed by the chunk id; failing one,
//     the bad copy's own server, under a derived id when the bad copy is
//     still there.
//  4. A source is streamed to the target with the directory's hash,
//     which the target's chunk server checks as it writes; a source whose
//     data does not match is passed over. The new copy's attributes are
//     then checked.
//  5. The directory replaces the bad copy's entry with the new one in one
//     update that fails if the entry changed meanwhile (meta.ChunkUpdate),
//     so two entries for one copy never exist.
//  6. The bad copy is deleted and the reverse index brought in step.
//
// An entry whose chunk no object lists any more (repaired already, or an
// orphan) is deleted if it still exists and is older than
// Options.OrphanMinAge; nothing else is ever deleted, and no copy is
// deleted while the directory lists it. An upload still running when its
// first chunks are that old would lose them, so the age must exceed the
// longest upload (an hour by default).
//
// # Interruptions
//
// A rebuild stopped at any point converges when run again: a copy written
// but not yet recorded is found at the same target (step 3) and adopted
// once verified; a bad copy recorded as replaced but not yet deleted is
// an orphan of its entry and deleted then.
//
// TODO(#5): erasure-coded chunks are not rebuilt (the directory has no EC
// policy yet), and surplus copies at a position are reported by the
// checker but not removed here.
package rebuild
