// Package convert upgrades the chunks of a volume from the legacy metadata
// formats of OpenIO SDS to the current one, in place, without touching a
// byte of data. It is what `gridkeep convert` runs, the counterpart of
// OpenIO's oio-blob-converter.
//
// # What a conversion does
//
// A legacy chunk names its owner with the keys grid.chunk.id and
// grid.content.{container,path,version,id}, with "oio:<SHA256>" entries
// whose values are four-field old fullpaths, with 2017-era "oio:<old
// fullpath>" names, or with several of these at once (see package chunk).
// A converted chunk has, for every chunk id sharing its inode, the key
// oio.content.fullpath:<ID> naming the owner of that id, and none of the
// legacy owner keys. Every other attribute is kept; a grid.oio.version of
// "4.0" becomes "4.2" and no marker is added where there was none (current
// chunk servers write none).
//
// The directory is authoritative: each description found on a chunk is
// resolved to an object that the directory lists with this very chunk id
// on this volume (by content id first, then by path and version, the
// latest when the version is not a number), and a fullpath for another id
// is written only if that id's file is the same inode. A fullpath key the
// chunk already has (a half-converted chunk) is checked the same way unless
// a legacy key names the same owner: it is kept only if the object it names
// lists its id on this volume, under that very fullpath, and its file is
// this inode; one that does not parse must be replaced by a resolved
// description. A chunk whose owner its own keys cannot establish is looked
// up in the volume's reverse index (rdir), in one scan at the end of the
// pass, and checked the same way.
//
// A chunk is converted whole or not at all: if anything about it cannot be
// resolved (its object is gone, a link names a file that is not the same
// inode, the directory cannot be reached), it is reported and left exactly
// as it was, data and attributes. Orphans are such chunks whose owner is
// gone or unknown.
//
// # Durability and crashes
//
// Chunk files are never opened for writing: attributes are set and removed
// through a descriptor opened for reading them, or by path. Chunks are
// converted in batches. For each batch:
//
//  1. plan every chunk (read its attributes, ask the directory); with no
//     backup to write first, set its new keys at once;
//  2. write the backup of the batch's chunks that will change, one file, and
//     fsync it, so no chunk changes before its backup is durable;
//  3. set the new keys of every chunk not set yet, then syncfs the volume,
//     so they are durable before any legacy key goes;
//  4. remove the legacy keys.
//
// The three writing steps of consecutive batches overlap, and batches grow
// while syncing takes longer than planning them.
//
// A chunk is therefore always in one of three durable states: original,
// original plus its new keys, or converted. A run killed at any moment and
// run again finds the second state, resolves it again and finishes it;
// converted chunks are recognised from their key names and skipped, once
// the attributes a current chunk must have are read and found to parse
// (its fullpath keys, position, chunk method and storage policy). A chunk
// lacking one of these, legacy or current, is reported as failed.
// Two names of one inode are never in flight at the same time: the second
// waits for a later round of the same run. A chunk whose new keys were set
// but whose legacy keys could not all be removed (an I/O error) is reported
// as failed, in the second state; running again finishes it.
//
// # Backups
//
// Unless disabled, the original attributes of every chunk a run sets out to
// change are written first, even if the change then fails (a rerun backs
// such a chunk up again), one file per batch, to
//
//	<backup dir>/backup_<volume id>_<start time, seconds>/batch-<NNNNNN>.txt
//
// in the text format of `getfattr --dump`: for each chunk a "# file: <chunk
// path>" line, then one name="value" line per attribute, with the escapes
// getfattr uses, then a blank line. `setfattr --restore=FILE` sets them
// back; `grep -l <CHUNK ID> batch-*` finds the backup of one chunk. It does
// not remove the keys the conversion added, so to return a chunk to exactly
// its original state, remove its oio.content.fullpath:* and grid.oio.version
// keys first. Every backup of a run holds the attributes the inode had
// before that run, for each of its names; when several runs backed up one
// inode, the oldest run holds the original. A dump is written under a
// ".partial" name and renamed once synced: a ".partial" file left by a
// killed run describes chunks that were not changed.
//
// # Differences from OpenIO
//
//   - The pacing option is honoured (the original always ran at 30 chunks/s),
//     and the pace can change while a run goes on (Options.Pacer).
//   - A dry run writes nothing at all, not even backups.
//   - Backups are one file per batch of chunks rather than one per chunk:
//     creating a file per chunk cost more than the conversion itself.
//   - Recovery from the reverse index never opens the chunk for writing
//     (the original truncated the data), and scans the index once per run
//     instead of once per chunk.
//   - Nothing is written on a chunk that is not converted whole; the
//     original wrote the fullpaths it could resolve and removed the old
//     fullpath entries it had processed.
//   - Chunk ids are compared regardless of case, and ids of 24 to 64
//     hexadecimal characters are accepted.
//   - 2017-era "oio:<old fullpath>" names are converted, not ignored, even
//     when a "/" in the account or container makes them ambiguous: the
//     splits of the name are tried against the directory, then the name's
//     fields decoded, for a name written with escaped fields.
//   - The version marker is updated, never added.
package convert
