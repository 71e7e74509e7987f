package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

func init() { register(newChunkCommand) }

func newChunkCommand() *cobra.Command {
	return groupCommand("chunk", "Work with chunk files on a volume", newChunkInspectCommand())
}

func newChunkInspectCommand() *cobra.Command {
	var (
		asJSON, checkHash bool
		layout            chunk.Layout
	)
	cmd := &cobra.Command{
		Use:   "inspect [--json] [--check-hash] [--hash-width N] [--hash-depth N] PATH...",
		Short: "Show the metadata of chunk files, current or legacy, and what is wrong with it",
		Long: `Show the parsed metadata of chunk files, in the current or a legacy format,
with everything missing or inconsistent. A directory is searched for chunk
files, and for anything else named like one (a link, a pipe: a problem);
one that holds none is a problem too (a mistyped volume path must not read
as a clean one). A chunk file named by its id in lowercase is a problem:
a chunk server looks for the uppercase name only. Nothing is modified.
With --check-hash the data is re-hashed and compared with the hash
attribute; data that cannot be read is reported with a "hash not checked"
problem.

In a volume searched (a directory with the volume attributes a chunk server
sets, user.server.*), every directory must be a chunk directory of the
layout that --hash-width and --hash-depth give, as to "gridkeep rawx": one
named by that many uppercase hexadecimal digits, at most that many levels
down. Any other directory is reported as not a chunk directory, a problem
too, and searched all the same; the root of a volume may also hold
non_optimal_placement, orphans and lost+found. A chunk file of a volume,
searched or named, must be in the chunk directory of its id, the only
place a chunk server looks for it; one elsewhere in the volume (at its
root, say) is reported as misplaced. A link (the fullpath key of another
chunk id on the file) must be backed by the volume: a file for that id, in
its chunk directory, that is a hard link of this one.

Exit codes: 0 every chunk is consistent, 1 problems were found (with
--check-hash, a hash that could not be checked is one), 2 bad arguments
(for instance a path that does not exist).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLayoutFlags(layout); err != nil {
				return err
			}
			return inspectChunks(cmd.OutOrStdout(), args, layout, asJSON, checkHash)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per chunk and line")
	cmd.Flags().BoolVar(&checkHash, "check-hash", false,
		"also re-hash the data and compare it with the hash attribute")
	layoutFlags(cmd.Flags(), &layout)
	return cmd
}

func inspectChunks(w io.Writer, paths []string, layout chunk.Layout, asJSON, checkHash bool) error {
	for _, p := range paths {
		if _, err := os.Lstat(p); err != nil {
			return usageError{err}
		}
	}
	bad, total, strays := 0, 0, 0
	emit := func(in chunk.Inspection) error {
		if asJSON {
			return json.NewEncoder(w).Encode(inspectionJSON(in))
		}
		printInspection(w, in)
		return nil
	}
	show := func(path, misplaced string) error {
		in := chunk.Inspect(path, checkHash)
		if misplaced != "" {
			in.Problems = append(in.Problems, misplaced)
		}
		in.Problems = append(in.Problems, layout.BrokenLinks(path, in.Meta)...)
		total++
		if len(in.Problems) > 0 {
			bad++
		}
		return emit(in)
	}
	stray := func(dir, why string) error {
		strays++
		return emit(chunk.Inspection{Path: dir, Format: chunk.FormatUnknown,
			Problems: []string{"not a chunk directory: " + why}})
	}
	var empty []string
	for _, p := range paths {
		st, _ := os.Stat(p)
		var err error
		if st != nil && st.IsDir() {
			before := total
			err = chunk.WalkIDs(p, layout, show, stray)
			if total == before {
				empty = append(empty, p)
			}
		} else {
			err = show(p, layout.Misplaced(p))
		}
		if err != nil {
			return err
		}
	}
	var problems []string
	if bad > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d chunks have problems", bad, total))
	}
	if strays > 0 {
		what := "directories are not chunk directories"
		if strays == 1 {
			what = "directory is not a chunk directory"
		}
		problems = append(problems, fmt.Sprintf("%d %s of hash width %d and depth %d "+
			"(--hash-width, --hash-depth)", strays, what, layout.Width, layout.Depth))
	}
	for _, p := range empty {
		problems = append(problems, fmt.Sprintf("no chunk file under %s", visible(p)))
	}
	if len(problems) > 0 {
		return exitError{ExitFail, errors.New(strings.Join(problems, "; "))}
	}
	return nil
}

// inspectedChunk is the JSON form of an inspection.
type inspectedChunk struct {
	Path          string            `json:"path"`
	ChunkID       string            `json:"chunk_id,omitempty"`
	Format        chunk.Format      `json:"format"`
	FileSize      int64             `json:"file_size"`
	Account       string            `json:"account,omitempty"`
	Container     string            `json:"container,omitempty"`
	ContainerID   string            `json:"container_id,omitempty"`
	ObjectPath    string            `json:"path_in_container,omitempty"`
	Version       int64             `json:"version,omitempty"`
	ContentID     string            `json:"content_id,omitempty"`
	FullPath      string            `json:"full_path,omitempty"`
	Position      string            `json:"position,omitempty"`
	Size          *int64            `json:"size,omitempty"`
	Hash          string            `json:"hash,omitempty"`
	ChunkMethod   string            `json:"chunk_method,omitempty"`
	StoragePolicy string            `json:"storage_policy,omitempty"`
	MetachunkSize *int64            `json:"metachunk_size,omitempty"`
	MetachunkHash string            `json:"metachunk_hash,omitempty"`
	Compression   string            `json:"compression,omitempty"`
	Extra         map[string]string `json:"extra,omitempty"`
	Links         map[string]string `json:"links,omitempty"`
	Legacy        *chunk.Legacy     `json:"legacy,omitempty"`
	Problems      []string          `json:"problems"`
}

func inspectionJSON(in chunk.Inspection) inspectedChunk {
	out := inspectedChunk{Path: in.Path, Format: in.Format, FileSize: in.FileSize,
		Problems: in.Problems}
	if out.Problems == nil {
		out.Problems = []string{}
	}
	m := in.Meta
	if m == nil {
		return out
	}
	out.ChunkID, out.Position, out.Hash = m.ChunkID, m.Position, m.Hash
	out.ChunkMethod, out.StoragePolicy = m.ChunkMethod, m.StoragePolicy
	out.MetachunkHash, out.Compression = m.MetachunkHash, m.Compression
	out.Extra, out.Links, out.Legacy = m.Extra, m.Links, m.Legacy
	out.ContainerID = m.ContainerID()
	if m.HasSize {
		out.Size = &m.Size
	}
	if m.HasMetaSize {
		out.MetachunkSize = &m.MetachunkSize
	}
	if m.FullpathRaw != "" {
		fp := m.Fullpath
		out.FullPath, out.Account, out.Container = m.FullpathRaw, fp.Account, fp.Container
		out.ObjectPath, out.Version, out.ContentID = fp.Path, fp.Version, fp.ContentID
	}
	return out
}

func printInspection(w io.Writer, in chunk.Inspection) {
	fmt.Fprintf(w, "%s\n", visible(in.Path))
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-15s %s\n", k, visible(v))
		}
	}
	row("format", string(in.Format))
	if m := in.Meta; m != nil {
		row("chunk id", m.ChunkID)
		if fp := m.Fullpath; fp.Validate() == nil {
			row("object", fmt.Sprintf("%s/%s/%s version %d", fp.Account, fp.Container, fp.Path,
				fp.Version))
			row("content id", fp.ContentID)
		}
		row("container id", m.ContainerID())
		row("position", m.Position)
		if m.HasSize {
			row("size", fmt.Sprintf("%d (file: %d)", m.Size, in.FileSize))
		}
		row("hash", m.Hash)
		row("chunk method", m.ChunkMethod)
		row("storage policy", m.StoragePolicy)
		if m.HasMetaSize {
			row("metachunk size", fmt.Sprint(m.MetachunkSize))
		}
		row("metachunk hash", m.MetachunkHash)
		row("compression", m.Compression)
		row("extra", joinMap(m.Extra))
		row("links", joinMap(m.Links))
		if l := m.Legacy; l != nil {
			row("legacy chunk id", l.ChunkID)
			row("legacy cid", l.Container)
			row("legacy path", l.Path)
			row("legacy version", l.Version)
			row("legacy content", l.ContentID)
			row("old fullpaths", joinMap(l.OldFullpaths))
			row("named oio keys", strings.Join(l.NamedFullpaths, ", "))
		}
	}
	if len(in.Problems) == 0 {
		row("problems", "none")
	}
	for _, p := range in.Problems {
		row("problem", p)
	}
}

func joinMap(m map[string]string) string {
	keys := sortedKeys(m)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ", ")
}
