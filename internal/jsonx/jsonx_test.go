package jsonx

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckDepth(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name string
		data string
		want error
	}{
		{"flat", `{"chunks": [{"url": "u"}]}`, nil},
		{"at the limit", deep(maxDepth), nil},
		{"over the limit", deep(maxDepth + 1), errTooDeep},
		{"unclosed", strings.Repeat("[", maxDepth+1), errTooDeep},
		{"nested objects", strings.Repeat(`{"a":`, maxDepth+1), errTooDeep},
		// Brackets inside strings, escaped quotes included, do not nest.
		{"brackets in strings", `["` + strings.Repeat(`[{\"`, maxDepth+1) + `"]`, nil},
		{"backslashes before a quote", `["\\\\", ` + deep(maxDepth-1) + `]`, nil},
		{"deep after a string", `["\"", ` + deep(maxDepth) + `]`, errTooDeep},
	}
	for _, tc := range tests {
		if err := checkDepth([]byte(tc.data)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestUnmarshalErrors(t *testing.T) {
	var m map[string]string
	for data, want := range map[string]string{
		`{"a": "b"`:   "unexpected end of JSON input",
		`{"a": 1}`:    "cannot unmarshal number",
		`{"a": "b"}x`: "invalid character 'x' after top-level value",
	} {
		if err := Unmarshal([]byte(data), &m); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", data, err, want)
		}
	}
	if err := Unmarshal([]byte(`{"a": "b"}`), &m); err != nil || m["a"] != "b" {
		t.Errorf("good JSON: %v, %v", m, err)
	}
}
