package cli

import (
	"bufio"
	"io"
	"strings"

	"github.com/rivo/uniseg"
)

// table prints rows in left-aligned columns two spaces apart, the last
// column unpadded. Unlike text/tabwriter, which counts runes, it measures
// cells in terminal columns, so that names in wide scripts (two columns a
// character in Chinese, Japanese or Korean) keep the columns aligned. Its
// cells must have gone through visible. Like tabwriter, it holds every row
// until write.
type table struct {
	rows   [][]string
	widths []int // of the columns but the last
}

func (t *table) add(cells ...string) {
	for i, c := range cells[:len(cells)-1] {
		w := cellWidth(c)
		if i == len(t.widths) {
			t.widths = append(t.widths, w)
		} else {
			t.widths[i] = max(t.widths[i], w)
		}
	}
	t.rows = append(t.rows, cells)
}

func (t *table) write(out io.Writer) error {
	w := bufio.NewWriter(out)
	for _, r := range t.rows {
		for i, c := range r {
			w.WriteString(c)
			if i < len(r)-1 {
				w.WriteString(strings.Repeat(" ", t.widths[i]-cellWidth(c)+2))
			}
		}
		w.WriteByte('\n')
	}
	return w.Flush()
}

// cellWidth returns how many terminal columns s takes.
func cellWidth(s string) int {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return uniseg.StringWidth(s)
		}
	}
	return len(s) // ASCII, printable once through visible
}
