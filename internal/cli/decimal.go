package cli

import (
	"strconv"

	"github.com/spf13/pflag"
)

// decimal is an integer flag read in base 10 only. pflag's own integer
// flags also take 0x, 0o and a leading 0 as base prefixes, so a version
// typed as 010 would mean 8.
type decimal[T int | int64] struct{ p *T }

func (d decimal[T]) String() string {
	if d.p == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*d.p), 10)
}

func (d decimal[T]) Set(s string) error {
	var bits int
	switch any(d.p).(type) {
	case *int:
		bits = strconv.IntSize
	default:
		bits = 64
	}
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok {
			err = ne.Err
		}
		return err
	}
	*d.p = T(n)
	return nil
}

func (d decimal[T]) Type() string {
	if _, ok := any(d.p).(*int); ok {
		return "int"
	}
	return "int64"
}

// intVar defines a base-10 integer flag with a default value.
func intVar[T int | int64](f *pflag.FlagSet, p *T, name string, value T, usage string) {
	*p = value
	f.Var(decimal[T]{p}, name, usage)
}
