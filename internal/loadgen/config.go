// Package loadgen generates load against a chunk server speaking OpenIO's
// rawx HTTP API, and holds a null chunk server that does the least work a
// chunk server can do, as the ceiling to compare real servers with.
//
// The load is closed-loop: a fixed number of workers each send a request,
// wait for the whole reply, and send the next one, over one keep-alive
// HTTP/1.1 connection per worker. Uploads carry the headers an OpenIO client
// sends for a single-copy plain chunk; reads pick chunks at random from a
// pool uploaded before the measure starts.
package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Op is the kind of request a run sends.
type Op string

// The operations a run can measure.
const (
	OpPut       Op = "put"        // upload new chunks
	OpGet       Op = "get"        // download whole chunks from a pool
	OpHeadCheck Op = "head-check" // HEAD with X-oio-check-hash: the server re-hashes the chunk
)

// Defaults applied to the zero fields of a Config.
const (
	DefaultSize        = 1 << 20
	DefaultConcurrency = 16
	DefaultDuration    = 10 * time.Second
	DefaultMaxRequests = 10_000_000
	// MaxSize bounds the chunk size: the body buffer is held in memory.
	MaxSize = 1 << 30
	// MaxConcurrency bounds the workers, each of which holds a connection
	// to the server.
	MaxConcurrency = 1024
	// MaxDuration bounds the measured time of one run.
	MaxDuration = time.Hour
	// poolBytes is the data a default read pool holds.
	poolBytes = 256 << 20
	// maxPoolObjects bounds the default read pool.
	maxPoolObjects = 10_000
)

// Config describes a run. The zero value of every field but URL and Op is
// a working default.
type Config struct {
	URL  string // chunk server base URL, http://ip:port (required)
	Host string // Host header sent; empty means the host:port of URL
	Op   Op     // operation measured (required)
	Size int64  // chunk size in bytes, up to MaxSize; 0 means DefaultSize

	Concurrency int           // workers, one connection each; 0 means DefaultConcurrency
	Duration    time.Duration // measured time; 0 means DefaultDuration
	Warmup      time.Duration // load sent before measuring, excluded from figures
	// Objects is the number of chunks uploaded before a get or head-check run
	// and read at random; 0 picks a pool of about 256 MiB, at least two
	// chunks per worker and at most 10000 chunks.
	Objects int
	// MaxRequests bounds the requests of a run, warmup included; 0 means
	// DefaultMaxRequests. It also bounds the memory of latency samples.
	MaxRequests int64
	// ServerPID, when positive, names the server process whose CPU time is
	// read from /proc before and after the measure.
	ServerPID int
	// AllowRemote permits a URL whose host is not a loopback address.
	AllowRemote bool
	// Keep leaves the chunks the run uploaded on the server; without it
	// they are deleted once the measure is over.
	Keep bool

	// mutate, when set by tests, alters each request before it is sent.
	mutate func(req *http.Request)
}

// Validate checks c and fills in its defaults.
func (c *Config) Validate() error {
	if err := c.validateTarget(); err != nil {
		return err
	}
	switch c.Op {
	case OpPut, OpGet, OpHeadCheck:
	default:
		return fmt.Errorf("unknown operation %q (want put, get or head-check)", c.Op)
	}
	switch {
	case c.Size < 0 || c.Size > MaxSize:
		return fmt.Errorf("size %d out of range 1 to %s", c.Size, FormatSize(MaxSize))
	case c.Concurrency < 0, c.Duration < 0, c.Warmup < 0, c.Objects < 0, c.MaxRequests < 0,
		c.ServerPID < 0:
		return errors.New("concurrency, duration, warmup, objects, max requests and server pid " +
			"cannot be negative")
	case c.Concurrency > MaxConcurrency:
		return fmt.Errorf("concurrency %d: must be from 1 to %d", c.Concurrency, MaxConcurrency)
	case c.Duration > MaxDuration || c.Warmup > MaxDuration:
		return fmt.Errorf("duration and warmup are limited to %s", MaxDuration)
	}
	if c.ServerPID > 0 {
		if _, err := procCPU(c.ServerPID); err != nil {
			return err
		}
	}
	c.fillDefaults()
	return nil
}

func (c *Config) fillDefaults() {
	if c.Size == 0 {
		c.Size = DefaultSize
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.MaxRequests == 0 {
		c.MaxRequests = DefaultMaxRequests
	}
	if c.Objects == 0 && c.Op != OpPut {
		c.Objects = defaultObjects(c.Size, c.Concurrency)
	}
}

// defaultObjects sizes a read pool: about poolBytes of data, at least two
// chunks per worker, at most maxPoolObjects.
func defaultObjects(size int64, concurrency int) int {
	n := maxPoolObjects
	if size > 0 {
		n = int(min(int64(poolBytes)/size, maxPoolObjects))
	}
	return max(n, 2*concurrency)
}

// validateTarget checks the URL and refuses hosts that are not loopback
// unless AllowRemote is set. A URL with credentials is refused, without
// them in the error: a chunk server takes none, and they would go unused.
func (c *Config) validateTarget() error {
	if c.URL == "" {
		return errors.New("no server URL")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("server URL: %w", err)
	}
	if u.User != nil {
		return fmt.Errorf("server URL %q: want no user or password (a chunk server takes none)",
			u.Redacted())
	}
	if u.Scheme != "http" || u.Host == "" || u.Port() == "" {
		return fmt.Errorf("server URL %q: want http://host:port", c.URL)
	}
	if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("server URL %q: port %s is not 1 to 65535", c.URL, u.Port())
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" ||
		strings.Contains(c.URL, "#") {
		return fmt.Errorf("server URL %q: want no path, query or fragment", c.URL)
	}
	if !c.AllowRemote && !IsLoopback(u.Hostname()) {
		return fmt.Errorf("server %s is not a loopback address (see --allow-remote)", u.Host)
	}
	return nil
}

// IsLoopback reports whether host, an IP address or a name, is a loopback
// address. No name is resolved: only "localhost" counts among names.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// baseURL returns the URL without a trailing slash.
func (c *Config) baseURL() string { return strings.TrimSuffix(c.URL, "/") }

// hostHeader returns the Host header to send.
func (c *Config) hostHeader() string {
	if c.Host != "" {
		return c.Host
	}
	u, _ := url.Parse(c.URL)
	return u.Host
}

var sizeUnits = []struct {
	suffix string
	shift  uint
}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

// ParseSize parses a byte count: a decimal integer with an optional suffix
// B, KiB, MiB or GiB (case-insensitive), such as "4096", "4KiB" or "16MiB".
func ParseSize(s string) (int64, error) {
	num, shift := strings.TrimSpace(s), uint(0)
	for _, u := range sizeUnits {
		if len(num) > len(u.suffix) && strings.EqualFold(num[len(num)-len(u.suffix):], u.suffix) {
			num, shift = strings.TrimSpace(num[:len(num)-len(u.suffix)]), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q (want a count of bytes, KiB, MiB or GiB)", s)
	}
	if n > (1<<62)>>shift {
		return 0, fmt.Errorf("size %q too large", s)
	}
	return n << shift, nil
}

// FormatSize renders n bytes with the largest binary unit that divides it.
func FormatSize(n int64) string {
	for _, u := range sizeUnits {
		unit := int64(1) << u.shift
		if u.shift > 0 && n >= unit && n%unit == 0 {
			return strconv.FormatInt(n/unit, 10) + " " + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + " B"
}
