package shell

import (
	"os/exec"
	"testing"
)

// Every word comes back whole and unchanged through a real shell.
func TestArgRoundTrips(t *testing.T) {
	for _, s := range []string{"", "plain", "a b", "it's", "$HOME", "`id`", "a\nb", "*", "--x=1", "é"} {
		out, err := exec.Command("sh", "-c", "printf %s "+Arg(s)).Output()
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if string(out) != s {
			t.Errorf("%q came back as %q through %s", s, out, Arg(s))
		}
	}
	if got := Arg("rawx-3"); got != "rawx-3" {
		t.Errorf("a safe word is quoted: %s", got)
	}
}
