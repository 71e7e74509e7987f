package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// jsonResult is the JSON form of a Result; its field names are stable.
type jsonResult struct {
	Op           Op               `json:"op"`
	URL          string           `json:"url"`
	SizeBytes    int64            `json:"size_bytes"`
	Concurrency  int              `json:"concurrency"`
	WarmupS      float64          `json:"warmup_s"`
	ElapsedS     float64          `json:"elapsed_s"`
	Objects      int              `json:"objects"`
	PoolCut      bool             `json:"pool_interrupted,omitempty"`
	Requests     int64            `json:"requests"`
	OK           int64            `json:"ok"`
	Errors       int64            `json:"errors"`
	Cut          int64            `json:"cut"`
	ErrorsBy     map[string]int64 `json:"errors_by_status"`
	Bytes        int64            `json:"bytes"`
	ReqPerS      float64          `json:"req_per_s"`
	MBPerS       float64          `json:"mb_per_s"`
	LatencyMS    jsonLatency      `json:"latency_ms"`
	Connections  int64            `json:"connections"`
	ServerPID    int              `json:"server_pid,omitempty"`
	ServerCPUS   *float64         `json:"server_cpu_s,omitempty"`
	ServerCPUUS  *float64         `json:"server_cpu_us_per_req,omitempty"`
	ClientCPUS   float64          `json:"client_cpu_s"`
	ClientCPUUS  float64          `json:"client_cpu_us_per_req"`
	Removed      int64            `json:"chunks_removed"`
	RemovedUnack int64            `json:"chunks_removed_unacknowledged"`
	NotRemoved   int64            `json:"chunks_not_removed"`
	MaybeLeft    int64            `json:"chunks_maybe_left"`
	Kept         bool             `json:"chunks_kept,omitempty"`
}

type jsonLatency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// WriteJSON writes r as one JSON object on one line. Durations are in
// seconds (_s), milliseconds (latency_ms) or microseconds (_us); rates
// count successful requests; mb_per_s is in 10^6 bytes per second; cut
// counts the requests cancelled in flight at the end, in neither ok nor
// errors. The chunks_ fields are those of Cleanup: removed, of them those
// whose upload failed or was cut (unacknowledged), stored and left (not
// removed), of failed or cut uploads and perhaps left (maybe left).
func (r *Result) WriteJSON(w io.Writer) error {
	j := jsonResult{
		Op: r.Op, URL: r.URL, SizeBytes: r.Size, Concurrency: r.Concurrency,
		WarmupS: r.Warmup.Seconds(), ElapsedS: r.Elapsed.Seconds(), Objects: r.Objects,
		Requests: r.Requests, OK: r.OK, Errors: r.ErrorCount(), Cut: r.Cut, ErrorsBy: r.Errors,
		Bytes: r.Bytes, ReqPerS: r.ReqPerSec(), MBPerS: r.MBPerSec(),
		LatencyMS: jsonLatency{P50: ms(r.Latency.P50), P90: ms(r.Latency.P90),
			P99: ms(r.Latency.P99), Max: ms(r.Latency.Max), Mean: ms(r.Latency.Mean)},
		Connections: r.Connections,
		ClientCPUS:  r.ClientCPU.Seconds(), ClientCPUUS: us(r.ClientCPUPerRequest()),
		Removed: r.Removed, RemovedUnack: r.RemovedUnacknowledged, NotRemoved: r.NotRemoved,
		MaybeLeft: r.MaybeLeft, Kept: r.Kept, PoolCut: r.PoolInterrupted,
	}
	if j.ErrorsBy == nil {
		j.ErrorsBy = map[string]int64{}
	}
	if r.ServerPID > 0 {
		cpu, per := r.ServerCPU.Seconds(), us(r.ServerCPUPerRequest())
		j.ServerPID, j.ServerCPUS, j.ServerCPUUS = r.ServerPID, &cpu, &per
	}
	return json.NewEncoder(w).Encode(j)
}

// WriteText writes r for a reader, one aspect per line.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.PoolInterrupted {
		fmt.Fprintf(&b, "%s %s, %d workers, nothing measured, %s\n", r.Op, FormatSize(r.Size),
			r.Concurrency, r.URL)
	} else {
		fmt.Fprintf(&b, "%s %s, %d workers, %.2fs measured after %s warmup, %s\n",
			r.Op, FormatSize(r.Size), r.Concurrency, r.Elapsed.Seconds(), r.Warmup, r.URL)
	}
	switch {
	case r.PoolInterrupted:
		fmt.Fprintf(&b, "pool      %d chunks uploaded, then interrupted: no load was sent\n", r.Objects)
	case r.Objects > 0:
		fmt.Fprintf(&b, "pool      %d chunks uploaded before the run\n", r.Objects)
	}
	fmt.Fprintf(&b, "requests  %d (%d ok, %d failed)  %.1f req/s  %.1f MB/s\n",
		r.Requests, r.OK, r.ErrorCount(), r.ReqPerSec(), r.MBPerSec())
	if r.Cut > 0 {
		fmt.Fprintf(&b, "cut       %d in flight at the end, cancelled and left out of the figures\n", r.Cut)
	}
	l := r.Latency
	fmt.Fprintf(&b, "latency   p50 %s  p90 %s  p99 %s  max %s  mean %s\n",
		round(l.P50), round(l.P90), round(l.P99), round(l.Max), round(l.Mean))
	fmt.Fprintf(&b, "errors    %s\n", errorLine(r.Errors))
	if r.ServerPID > 0 {
		fmt.Fprintf(&b, "server    pid %d: %.1f µs CPU per request (%.2fs)\n",
			r.ServerPID, us(r.ServerCPUPerRequest()), r.ServerCPU.Seconds())
	}
	fmt.Fprintf(&b, "client    %.1f µs CPU per request (%.2fs), %d connections opened\n",
		us(r.ClientCPUPerRequest()), r.ClientCPU.Seconds(), r.Connections)
	if r.Kept {
		fmt.Fprintf(&b, "chunks    the uploaded chunks were left on the server\n")
	} else {
		fmt.Fprintf(&b, "chunks    after the run, %s\n", r.Cleanup.summary())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// round keeps three significant figures or so of a latency.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Microsecond)
	default:
		return d.Round(100 * time.Nanosecond)
	}
}

func errorLine(errs map[string]int64) string {
	if len(errs) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(errs))
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, errs[k]))
	}
	return strings.Join(parts, ", ")
}
