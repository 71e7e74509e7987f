package jsonx

import (
	"encoding/json"
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

// envelope has the shape of an event envelope: strings, a number, a
// nested object and raw data.
type envelope struct {
	Event string `json:"event"`
	When  int64  `json:"when"`
	URL   *struct {
		NS      string `json:"ns,omitempty"`
		Account string `json:"account,omitempty"`
		User    string `json:"user,omitempty"`
		ID      string `json:"id,omitempty"`
	} `json:"url,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	Data      json.RawMessage `json:"data"`
}

// BenchmarkUnmarshal decodes a chunk event's envelope with encoding/json
// and with Unmarshal.
func BenchmarkUnmarshal(b *testing.B) {
	id := strings.Repeat("0123456789ABCDEF", 4)
	data, err := json.Marshal(map[string]any{"event": "storage.chunk.new", "when": 1733400000000000,
		"url":        map[string]string{"ns": "OPENIO", "account": "acct", "user": "ctr", "id": id},
		"request_id": "req", "data": json.RawMessage(`{"volume_id":"127.0.0.1:6201","chunk_id":"` + id +
			`","container_id":"` + id + `","content_path":"a/b","content_version":"1733400000000000",` +
			`"chunk_hash":"` + id[:32] + `","chunk_size":"4096","chunk_position":"0"}`)})
	if err != nil {
		b.Fatal(err)
	}
	for _, impl := range []struct {
		name      string
		unmarshal func([]byte, any) error
	}{{"encoding-json", json.Unmarshal}, {"jsonx", Unmarshal}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var e envelope
				if err := impl.unmarshal(data, &e); err != nil || e.When == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}
