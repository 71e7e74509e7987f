package meta

import "testing"

func TestValidPosition(t *testing.T) {
	for p, want := range map[string]bool{
		"0": true, "12": true, "3.0": true, "3.14": true,
		"": false, "01": false, "1.00": false, "2.p1": false, "1.": false,
		"1234567890": false, "-1": false, "1.2.3": false,
	} {
		if got := ValidPosition(p); got != want {
			t.Errorf("ValidPosition(%q) = %v, want %v", p, got, want)
		}
	}
}
