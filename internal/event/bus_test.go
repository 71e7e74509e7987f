package event_test

import (
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/event"
)

func TestBackoffDelay(t *testing.T) {
	tests := []struct {
		name string
		b    event.Backoff
		n    int
		want time.Duration
	}{
		{"zero first", event.Backoff{}, 1, time.Second},
		{"zero third", event.Backoff{}, 3, 4 * time.Second},
		{"zero capped", event.Backoff{}, 40, time.Minute},
		{"custom first", event.Backoff{Initial: 10 * time.Millisecond}, 1, 10 * time.Millisecond},
		{"custom doubled", event.Backoff{Initial: 10 * time.Millisecond}, 4, 80 * time.Millisecond},
		{"custom capped", event.Backoff{Initial: time.Second, Max: 3 * time.Second}, 5, 3 * time.Second},
		{"initial over max", event.Backoff{Initial: time.Hour, Max: time.Second}, 1, time.Second},
		{"retry zero", event.Backoff{Initial: time.Second}, 0, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.Delay(tt.n); got != tt.want {
				t.Errorf("Delay(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}

func TestCheckType(t *testing.T) {
	tests := []struct {
		typ string
		ok  bool
	}{
		{event.ChunkNew, true},
		{event.XcuteTasks, true},
		{"delayed", true},
		{"internal.batch.end", true},
		{"storage.content.new_v2-x", true},
		{"", false},
		{".storage", false},
		{"storage.", false},
		{"storage..new", false},
		{"storage.*", false},
		{"storage.>", false},
		{"storage chunk", false},
		{"storage/chunk", false},
		{"stockage.données", false},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			if err := event.CheckType(tt.typ); (err == nil) != tt.ok {
				t.Errorf("CheckType(%q) = %v, want ok=%v", tt.typ, err, tt.ok)
			}
		})
	}
}

func TestGroupValidate(t *testing.T) {
	tests := []struct {
		name string
		g    event.Group
		ok   bool
	}{
		{"all types", event.Group{Name: "rdir-indexer"}, true},
		{"some types", event.Group{Name: "agent_1",
			Types: []string{event.ChunkNew, event.ChunkDeleted}}, true},
		{"no name", event.Group{}, false},
		{"dotted name", event.Group{Name: "a.b"}, false},
		{"wildcard name", event.Group{Name: "a*"}, false},
		{"long name", event.Group{Name: string(make([]byte, 65))}, false},
		{"bad type", event.Group{Name: "g", Types: []string{"storage.*"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.g.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestGroupAttempts(t *testing.T) {
	if got := (event.Group{}).Attempts(); got != event.DefaultMaxAttempts {
		t.Errorf("zero group attempts %d, want %d", got, event.DefaultMaxAttempts)
	}
	if got := (event.Group{MaxAttempts: 2}).Attempts(); got != 2 {
		t.Errorf("attempts %d, want 2", got)
	}
}
