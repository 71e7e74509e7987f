package loadgen

import (
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"4096", 4096},
		{"100B", 100},
		{"4KiB", 4 << 10},
		{"4 KiB", 4 << 10},
		{"1MiB", 1 << 20},
		{"16mib", 16 << 20},
		{"1GiB", 1 << 30},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "KiB", "-1", "1.5MiB", "1MB", "4k", "99999999999GiB"} {
		if n, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", bad, n)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 100: "100 B", 4096: "4 KiB",
		1 << 20: "1 MiB", 16 << 20: "16 MiB", 1<<20 + 1: "1048577 B", 3 << 30: "3 GiB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
		if back, err := ParseSize(strings.ReplaceAll(FormatSize(n), " ", "")); err != nil || back != n {
			t.Errorf("ParseSize(FormatSize(%d)) = %d, %v", n, back, err)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Config{URL: "http://127.0.0.1:6201", Op: OpPut, Size: 1 << 20}
	tests := []struct {
		name  string
		edit  func(*Config)
		valid bool
	}{
		{"loopback", func(*Config) {}, true},
		{"trailing slash", func(c *Config) { c.URL += "/" }, true},
		{"localhost", func(c *Config) { c.URL = "http://localhost:6201" }, true},
		{"ipv6 loopback", func(c *Config) { c.URL = "http://[::1]:6201" }, true},
		{"other loopback", func(c *Config) { c.URL = "http://127.0.0.2:6201" }, true},
		{"remote refused", func(c *Config) { c.URL = "http://10.0.0.1:6201" }, false},
		{"name refused", func(c *Config) { c.URL = "http://rawx.example:6201" }, false},
		{"remote allowed", func(c *Config) { c.URL = "http://10.0.0.1:6201"; c.AllowRemote = true }, true},
		{"no url", func(c *Config) { c.URL = "" }, false},
		{"https", func(c *Config) { c.URL = "https://127.0.0.1:6201" }, false},
		{"no port", func(c *Config) { c.URL = "http://127.0.0.1" }, false},
		{"path", func(c *Config) { c.URL = "http://127.0.0.1:6201/info" }, false},
		{"query", func(c *Config) { c.URL = "http://127.0.0.1:6201?x=1" }, false},
		{"fragment", func(c *Config) { c.URL = "http://127.0.0.1:6201#frag" }, false},
		{"empty fragment", func(c *Config) { c.URL = "http://127.0.0.1:6201#" }, false},
		{"empty query", func(c *Config) { c.URL = "http://127.0.0.1:6201?" }, false},
		{"user", func(c *Config) { c.URL = "http://user@127.0.0.1:6201" }, false},
		{"user and password", func(c *Config) { c.URL = "http://user:secret@127.0.0.1:6201" }, false},
		{"empty user", func(c *Config) { c.URL = "http://@127.0.0.1:6201" }, false},
		{"port too high", func(c *Config) { c.URL = "http://127.0.0.1:99999" }, false},
		{"port 0", func(c *Config) { c.URL = "http://127.0.0.1:0" }, false},
		{"negative server pid", func(c *Config) { c.ServerPID = -1 }, false},
		{"unknown op", func(c *Config) { c.Op = "delete" }, false},
		{"no op", func(c *Config) { c.Op = "" }, false},
		{"negative size", func(c *Config) { c.Size = -1 }, false},
		{"huge size", func(c *Config) { c.Size = MaxSize + 1 }, false},
		{"negative workers", func(c *Config) { c.Concurrency = -1 }, false},
		{"negative warmup", func(c *Config) { c.Warmup = -time.Second }, false},
		{"endless", func(c *Config) { c.Duration = MaxDuration + time.Second }, false},
		{"too many workers", func(c *Config) { c.Concurrency = MaxConcurrency + 1 }, false},
		{"most workers", func(c *Config) { c.Concurrency = MaxConcurrency }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			if err := c.Validate(); (err == nil) != tt.valid {
				t.Errorf("Validate() = %v, want valid %v", err, tt.valid)
			}
		})
	}
}

// TestValidateCredentials: a URL with credentials is refused, and the
// error does not repeat the password.
func TestValidateCredentials(t *testing.T) {
	c := Config{URL: "http://user:secret@127.0.0.1:6201", Op: OpPut}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "want no user or password") ||
		strings.Contains(err.Error(), "secret") {
		t.Errorf("Validate() = %v, want credentials refused, the password not repeated", err)
	}
}

func TestValidateDefaults(t *testing.T) {
	c := Config{URL: "http://127.0.0.1:6201", Op: OpGet, Size: 16 << 20}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Concurrency != DefaultConcurrency || c.Duration != DefaultDuration ||
		c.MaxRequests != DefaultMaxRequests {
		t.Errorf("defaults not applied: %+v", c)
	}
	// 256 MiB of 16 MiB chunks is 16, fewer than two per worker.
	if c.Objects != 2*DefaultConcurrency {
		t.Errorf("pool of %d chunks, want %d", c.Objects, 2*DefaultConcurrency)
	}
	if got := c.hostHeader(); got != "127.0.0.1:6201" {
		t.Errorf("Host %q, want the URL's host:port", got)
	}

	// A chunk of no data measures nothing of a chunk server's data path.
	c = Config{URL: "http://127.0.0.1:6201", Op: OpPut}
	if err := c.Validate(); err != nil || c.Size != DefaultSize {
		t.Errorf("size %d (%v) for a size of 0, want the default %d", c.Size, err, DefaultSize)
	}

	for size, want := range map[int64]int{0: maxPoolObjects, 4 << 10: maxPoolObjects, 1 << 20: 256} {
		if got := defaultObjects(size, 16); got != want {
			t.Errorf("defaultObjects(%d) = %d, want %d", size, got, want)
		}
	}
}
