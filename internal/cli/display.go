package cli

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// visible returns s ready to be printed in a human-readable table or
// message: control characters (newline, tab, escape, DEL, C1 controls),
// other characters that print nothing (format characters such as bidi
// overrides), bytes that are not UTF-8 and the backslash itself are
// written as Go escapes (\n, \t, \x1b, \u202e, \xff, \\), so that what is
// shown stands for one string only. Names, property values and errors
// come from the namespace or from disk; printed raw they could forge table
// rows or send sequences to the terminal. Every table and text output of
// the commands goes through visible, error lines through visibleMessage;
// JSON output needs neither, encoding/json escapes control characters.
func visible(s string) string { return escape(s, true) }

// visibleMessage is visible for messages that quote names with %q
// already: backslashes are left as they are, so that quoted names are not
// escaped twice.
func visibleMessage(s string) string { return escape(s, false) }

func escape(s string, backslash bool) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f && (s[i] != '\\' || !backslash) {
		i++
	}
	if i == len(s) {
		return s // plain printable ASCII: the common case
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\' && backslash:
			b.WriteString(`\\`)
		case unicode.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r) // '\n', '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}
