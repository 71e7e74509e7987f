package convert

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// backups writes the original attributes of chunks: one dump file per
// batch, under one directory per run. A dump is made durable (fsync of the
// file and, the first time, of the directory) before any chunk it
// describes changes. Only the committer writes dumps, one at a time.
type backups struct {
	dir    string
	n      int
	synced bool                   // the run directory's entry is durable
	made   atomic.Bool            // the run directory exists
	mu     sync.Mutex             // guards links
	links  map[inode][]chunk.Attr // first backup of each hard-linked inode
}

// newBackups names the run's backup directory under parent; the first
// dump creates it, so that a run that changes nothing leaves none.
func newBackups(parent, volumeID string, start time.Time) *backups {
	ts := strconv.FormatFloat(float64(start.UnixMicro())/1e6, 'f', 6, 64)
	dir := filepath.Join(parent, "backup_"+volumeID+"_"+ts)
	return &backups{dir: dir, links: map[inode][]chunk.Attr{}}
}

// original returns the attributes to back up for a chunk: those read, or,
// for a hard-linked inode already backed up by this run under another
// name, those of that first backup, so that every backup of a run holds
// the state from before the run.
func (b *backups) original(p *plan) []chunk.Attr {
	if p.nlink <= 1 {
		return p.attrs
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if first, ok := b.links[p.ino]; ok {
		return first
	}
	b.links[p.ino] = p.attrs
	return p.attrs
}

// write writes the dump of a batch and makes it durable: it is written
// under a ".partial" name, synced, renamed, and the directory synced, so
// that a dump under its final name is always whole.
func (b *backups) write(batch []*plan) error {
	if b.n == 0 {
		if err := os.MkdirAll(b.dir, 0o755); err != nil {
			return fmt.Errorf("create backup directory: %w", err)
		}
		b.made.Store(true)
	}
	b.n++
	name := filepath.Join(b.dir, fmt.Sprintf("batch-%06d.txt", b.n))
	if err := b.writePartial(name+".partial", batch); err != nil {
		return fmt.Errorf("backup %s: %w", name, err)
	}
	if err := os.Rename(name+".partial", name); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	dirs := []string{b.dir}
	if !b.synced {
		dirs = append(dirs, filepath.Dir(b.dir))
	}
	if err := syncDirs(dirs...); err != nil {
		return fmt.Errorf("backup %s: %w", name, err)
	}
	b.synced = true
	return nil
}

func (b *backups) writePartial(name string, batch []*plan) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 256<<10)
	for _, p := range batch {
		WriteDump(w, p.path, b.original(p))
	}
	err = w.Flush()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDirs makes the entries of each directory durable.
func syncDirs(dirs ...string) error {
	for _, d := range dirs {
		f, err := os.Open(d)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// WriteDump writes the attributes of the file at path in the text format
// of `getfattr --dump`, which `setfattr --restore` reads back: a
// "# file:" line, one name="value" line per attribute, a blank line.
// Names and values are escaped as getfattr does, so that any bytes
// survive the round trip.
func WriteDump(w *bufio.Writer, path string, attrs []chunk.Attr) {
	w.WriteString("# file: ")
	writeEscaped(w, path, pathEscaping)
	w.WriteByte('\n')
	for _, a := range attrs {
		writeEscaped(w, a.Name, nameEscaping)
		w.WriteString(`="`)
		writeEscaped(w, a.Value, valueEscaping)
		w.WriteString("\"\n")
	}
	w.WriteByte('\n')
}

// An escaping says how each byte is written: as is, as an octal escape,
// or after a backslash.
type escaping [256]uint8

const (
	asIs uint8 = iota
	octal
	quoted
)

var (
	pathEscaping  = octalEscaping("\n\r")
	nameEscaping  = octalEscaping("=\n\r")
	valueEscaping = func() *escaping { // inside double quotes
		e := octalEscaping("")
		e['\\'], e['"'] = quoted, quoted
		return e
	}()
)

// octalEscaping escapes the bytes of special, backslashes and
// non-printable bytes as octal.
func octalEscaping(special string) *escaping {
	var e escaping
	for c := range len(e) {
		if c == '\\' || c < 0x20 || c >= 0x7f || strings.IndexByte(special, byte(c)) >= 0 {
			e[c] = octal
		}
	}
	return &e
}

// writeEscaped writes s with the bytes esc picks escaped, the runs between
// them as they are.
func writeEscaped(w *bufio.Writer, s string, esc *escaping) {
	start := 0
	for i := 0; i < len(s); i++ {
		how := esc[s[i]]
		if how == asIs {
			continue
		}
		w.WriteString(s[start:i])
		w.WriteByte('\\')
		if c := s[i]; how == octal {
			w.WriteByte('0' + c>>6)
			w.WriteByte('0' + c>>3&7)
			w.WriteByte('0' + c&7)
		} else {
			w.WriteByte(c)
		}
		start = i + 1
	}
	w.WriteString(s[start:])
}

// ParseDump reads text written by WriteDump (or `getfattr --dump` with the
// text encoding) into a map from file path to attributes, in file order.
func ParseDump(text string) (map[string][]chunk.Attr, error) {
	out := map[string][]chunk.Attr{}
	var cur string
	for i, line := range strings.Split(text, "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "# file: "):
			cur = unescape(strings.TrimPrefix(line, "# file: "))
			out[cur] = []chunk.Attr{}
		case cur == "":
			return nil, fmt.Errorf("dump line %d: attribute before any file", i+1)
		default:
			a, err := parseDumpLine(line)
			if err != nil {
				return nil, fmt.Errorf("dump line %d: %w", i+1, err)
			}
			out[cur] = append(out[cur], a)
		}
	}
	return out, nil
}

func parseDumpLine(line string) (chunk.Attr, error) {
	name, v, ok := strings.Cut(line, "=")
	if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return chunk.Attr{}, fmt.Errorf("not name=\"value\": %q", line)
	}
	return chunk.Attr{Name: unescape(name), Value: unescape(v[1 : len(v)-1])}, nil
}

// unescape decodes octal escapes and backslash-quoted characters.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }
