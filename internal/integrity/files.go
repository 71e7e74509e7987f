package integrity

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

// IrreparableMark starts the lines of irreparable findings in the error and
// rebuild files, as in OpenIO's checker.
const IrreparableMark = "#IRREPARABLE"

// WriteErrorLine writes r as a line of the error file: space-separated
// fields, quoted like CSV when they hold spaces,
//
//	[#IRREPARABLE] account [container [object [version [chunk]]]]
//
// where chunk is a chunk URL or a metachunk position; a chunk whose owner
// is unknown is written as its URL alone. ReadTargets reads it back.
func WriteErrorLine(w io.Writer, r *Result) error {
	t := r.Target
	var fields []string
	if r.Irreparable {
		fields = append(fields, IrreparableMark)
	}
	switch {
	case r.Kind == KindVolume:
		fields = append(fields, "volume="+t.Volume)
	case t.Account == "":
		fields = append(fields, t.Chunk)
	default:
		fields = append(fields, t.Account)
		for _, f := range []string{t.Container, t.Object} {
			if f != "" {
				fields = append(fields, f)
			}
		}
		if t.Object != "" && t.Version != 0 {
			fields = append(fields, strconv.FormatInt(t.Version, 10))
		}
		if t.Chunk != "" {
			fields = append(fields, t.Chunk)
		}
	}
	cw := csv.NewWriter(w)
	cw.Comma = ' '
	if err := cw.Write(fields); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// ReadTargets reads targets from an error file (see WriteErrorLine), one a
// line; blank lines and comment lines are skipped, and the irreparable
// mark is ignored. Unlike OpenIO's reader, a version column is read as a
// version and not taken for a chunk: the fourth field is a chunk only when
// it is a URL, and a line of one URL is a chunk with no owner known. The
// fifth field may also be a metachunk position or a chunk id, as OpenIO
// writes them: checking such a target checks its object.
func ReadTargets(r io.Reader) ([]Target, error) {
	var out []Target
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n := 1
	for ; sc.Scan(); n++ {
		line, first := sc.Text(), n
		// A quoted field goes on to the next line when it holds a newline
		// (a name may): the quotes of a whole line pair up.
		for strings.Count(line, `"`)%2 == 1 && sc.Scan() {
			n++
			line += "\n" + sc.Text()
		}
		line = strings.TrimSpace(line)
		line = strings.TrimSpace(strings.TrimPrefix(line, IrreparableMark))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		t, err := parseErrorLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", first, err)
		}
		out = append(out, t)
	}
	return out, scanError(sc, n)
}

// maxLine bounds the lines of error and rebuild files.
const maxLine = 1 << 20

// scanError says why reading a file stopped at line n, nil at its end.
func scanError(sc *bufio.Scanner, n int) error {
	err := sc.Err()
	if errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("line %d: longer than %d bytes: not a line of this file", n, maxLine)
	}
	return err
}

func parseErrorLine(line string) (Target, error) {
	cr := csv.NewReader(strings.NewReader(line))
	cr.Comma, cr.FieldsPerRecord, cr.LazyQuotes = ' ', -1, true
	f, err := cr.Read()
	if err != nil {
		return Target{}, err
	}
	if len(f) == 1 {
		if v, ok := strings.CutPrefix(f[0], "volume="); ok {
			return Target{Volume: v}, nil
		}
		if isURL(f[0]) {
			return Target{Chunk: f[0]}, nil
		}
	}
	if len(f) > 5 {
		return Target{}, fmt.Errorf("%d fields, want at most 5", len(f))
	}
	t := Target{Account: f[0]}
	if len(f) > 1 {
		t.Container = f[1]
	}
	if len(f) > 2 {
		t.Object = f[2]
	}
	rest := f[min(3, len(f)):]
	if len(rest) > 0 && !isURL(rest[0]) {
		if t.Version, err = strconv.ParseInt(rest[0], 10, 64); err != nil {
			return Target{}, fmt.Errorf("version %q: %w", rest[0], err)
		}
		rest = rest[1:]
	}
	if len(rest) > 0 {
		t.Chunk = rest[0]
	}
	if t.Account == "" || t.Chunk != "" && t.Object == "" && !isURL(t.Chunk) {
		return Target{}, errors.New("no account, or a position without its object")
	}
	return t, nil
}

// RebuildEntry is one line of a rebuild file: a chunk to rebuild, named by
// its owner and its URL, or by its position for a copy the directory lacks.
type RebuildEntry struct {
	ContainerID string
	ContentID   string
	Path        string
	Version     int64
	Chunk       string // chunk URL or metachunk position
	Irreparable bool
}

// Fields returns the entry as a line of the rebuild file without its
// irreparable mark: container id|content id|path|version|chunk, the path
// percent-encoded and an unknown version (0) empty.
func (e RebuildEntry) Fields() string {
	return rebuildFields(e.ContainerID, e.ContentID, e.Path, e.Version, e.Chunk)
}

func rebuildFields(cid, contentID, path string, version int64, chunk string) string {
	v := ""
	if version != 0 {
		v = strconv.FormatInt(version, 10)
	}
	return strings.Join([]string{cid, contentID, url.PathEscape(path), v, chunk}, "|")
}

// WriteRebuildLine writes r, a chunk finding, as a line of the rebuild file
// read by the rebuilder, in OpenIO's format:
//
//	[#IRREPARABLE|]container id|content id|path|version|chunk URL or position
//
// The path is percent-encoded, which OpenIO's rebuilder decodes (its
// checker wrote it raw).
func WriteRebuildLine(w io.Writer, r *Result) error {
	t := r.Target
	line := rebuildFields(t.CID(), t.ContentID, t.Object, t.Version, t.Chunk) + "\n"
	if r.Irreparable {
		line = IrreparableMark + "|" + line
	}
	_, err := io.WriteString(w, line)
	return err
}

// ReadRebuildEntries reads a rebuild file. Irreparable entries are
// returned marked, for the rebuilder to skip and report; blank lines and
// other comment lines are skipped.
func ReadRebuildEntries(r io.Reader) ([]RebuildEntry, error) {
	var out []RebuildEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n := 1
	for ; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		rest, irreparable := strings.CutPrefix(line, IrreparableMark+"|")
		if line == "" || !irreparable && strings.HasPrefix(line, "#") {
			continue
		}
		e, err := ParseRebuildLine(rest)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		e.Irreparable = irreparable
		out = append(out, e)
	}
	return out, scanError(sc, n)
}

// ParseRebuildLine reads "cid|content id|path|version|chunk".
func ParseRebuildLine(line string) (RebuildEntry, error) {
	f := strings.Split(line, "|")
	if len(f) != 5 || f[4] == "" {
		return RebuildEntry{}, fmt.Errorf("rebuild entry %q: want cid|content|path|version|chunk",
			line)
	}
	path, err := url.PathUnescape(f[2])
	if err != nil {
		return RebuildEntry{}, fmt.Errorf("rebuild entry path %q: %w", f[2], err)
	}
	e := RebuildEntry{ContainerID: strings.ToUpper(f[0]), ContentID: strings.ToUpper(f[1]),
		Path: path, Chunk: f[4]}
	if f[3] != "" {
		if e.Version, err = strconv.ParseInt(f[3], 10, 64); err != nil || e.Version <= 0 {
			return RebuildEntry{}, fmt.Errorf("rebuild entry version %q: not a positive number", f[3])
		}
	}
	if err := e.check(); err != nil {
		return RebuildEntry{}, fmt.Errorf("rebuild entry %q: %w", line, err)
	}
	return e, nil
}

// check reports what makes e an entry no rebuild can act on, so that a
// file holding one is refused whole before anything is done.
func (e RebuildEntry) check() error {
	switch {
	case e.ContainerID != "" && !chunk.IsContainerID(e.ContainerID):
		return fmt.Errorf("container id %q is not 64 hexadecimal digits", e.ContainerID)
	case e.ContentID != "" && !chunk.IsHex(e.ContentID):
		return fmt.Errorf("content id %q is not hexadecimal", e.ContentID)
	case strings.Contains(e.Chunk, "://"):
		_, _, err := rawx.SplitChunkURL(e.Chunk)
		return err
	case !meta.ValidPosition(e.Chunk):
		return fmt.Errorf("%q is neither a chunk URL nor a metachunk position", e.Chunk)
	case e.ContainerID == "":
		return fmt.Errorf("position %s without the container id of its object", e.Chunk)
	}
	return nil
}
