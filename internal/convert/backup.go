package convert

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// backups writes the original attributes of chunks, one file per chunk,
// under one directory per run. It is safe for concurrent use. Files are
// not synced one by one: the converter syncs their filesystem before it
// changes any chunk they describe.
type backups struct {
	dir  string
	mu   sync.Mutex
	made map[string]bool // subdirectories created
}

// newBackups creates the run's backup directory under parent.
func newBackups(parent, volumeID string, start time.Time) (*backups, error) {
	ts := strconv.FormatFloat(float64(start.UnixMicro())/1e6, 'f', 6, 64)
	dir := filepath.Join(parent, "backup_"+volumeID+"_"+ts)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create backup directory: %w", err)
	}
	return &backups{dir: dir, made: map[string]bool{}}, nil
}

// write saves the attributes of the chunk at path, named id. A backup of
// the same chunk already written by this run is kept: it is older.
func (b *backups) write(path, id string, attrs []chunk.Attr) error {
	sub := filepath.Join(b.dir, id[:min(3, len(id))])
	if err := b.mkdir(sub); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(sub, id), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("backup chunk %s: %w", id, err)
	}
	w := bufio.NewWriterSize(f, 4096)
	WriteDump(w, path, attrs)
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("backup chunk %s: %w", id, err)
	}
	return nil
}

func (b *backups) mkdir(dir string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.made[dir] {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create backup directory: %w", err)
	}
	b.made[dir] = true
	return nil
}

// WriteDump writes the attributes of the file at path in the text format
// of `getfattr --dump`, which `setfattr --restore` reads back: a
// "# file:" line, one name="value" line per attribute, a blank line.
// Names and values are escaped as getfattr does, so that any bytes
// survive the round trip.
func WriteDump(w *bufio.Writer, path string, attrs []chunk.Attr) {
	w.WriteString("# file: ")
	w.WriteString(escapeName(path, "\n\r"))
	w.WriteByte('\n')
	for _, a := range attrs {
		w.WriteString(escapeName(a.Name, "=\n\r"))
		w.WriteString(`="`)
		w.WriteString(escapeValue(a.Value))
		w.WriteString("\"\n")
	}
	w.WriteByte('\n')
}

// escapeName writes the bytes of special, backslashes and non-printable
// bytes as octal escapes.
func escapeName(s, special string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' || c < 0x20 || c >= 0x7f || strings.IndexByte(special, c) >= 0 {
			fmt.Fprintf(&b, "\\%03o", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// escapeValue escapes a value for the inside of double quotes.
func escapeValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
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
