package cli

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestIntegerFlagsAreDecimal(t *testing.T) {
	for _, tc := range []struct {
		arg     string
		want    int64
		wantErr string
	}{
		{arg: "010", want: 10},
		{arg: "1700000000000001", want: 1700000000000001},
		{arg: "-3", want: -3},
		{arg: "0x10", wantErr: "invalid syntax"},
		{arg: "0o7", wantErr: "invalid syntax"},
		{arg: "1_000", wantErr: "invalid syntax"},
		{arg: "99999999999999999999", wantErr: "value out of range"},
	} {
		f := pflag.NewFlagSet("t", pflag.ContinueOnError)
		var v int64
		intVar(f, &v, "version", 7, "")
		err := f.Parse([]string{"--version", tc.arg})
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("--version %s: error %v, want %q", tc.arg, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("--version %s: %v", tc.arg, err)
		case v != tc.want:
			t.Errorf("--version %s read as %d, want %d", tc.arg, v, tc.want)
		}
	}

	f := pflag.NewFlagSet("t", pflag.ContinueOnError)
	var n int
	intVar(f, &n, "concurrency", 4, "")
	if n != 4 || f.Lookup("concurrency").DefValue != "4" {
		t.Errorf("default: %d, shown as %q", n, f.Lookup("concurrency").DefValue)
	}
	if err := f.Parse([]string{"--concurrency", "08"}); err != nil || n != 8 {
		t.Errorf("--concurrency 08: %d, %v", n, err)
	}
}
