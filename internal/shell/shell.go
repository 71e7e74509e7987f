// Package shell writes command lines that a person can paste into a POSIX
// shell, for the commands that messages suggest.
package shell

import "strings"

// safe are the characters a shell takes literally in a word.
const safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/:@%+="

// Arg returns s as one shell word: as it is when the shell takes it
// literally, in single quotes otherwise.
func Arg(s string) string {
	if s != "" && strings.Trim(s, safe) == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
