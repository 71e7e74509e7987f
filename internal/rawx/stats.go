package rawx

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gridkeep/gridkeep/internal/reqmetrics"
)

var routes = []string{"put", "get", "head", "delete", "copy", "post", "info", "stat", "list",
	"metrics", "other"}

// stats are the counters of /stat, named as OpenIO's rawx names them.
type stats struct {
	hits     map[string]*atomic.Uint64 // req.hits.<route>
	times    map[string]*atomic.Uint64 // req.time.<route>, microseconds
	allHits  atomic.Uint64
	allTime  atomic.Uint64
	rep2xx   atomic.Uint64
	rep4xx   atomic.Uint64
	rep5xx   atomic.Uint64
	rep403   atomic.Uint64
	rep404   atomic.Uint64
	repOther atomic.Uint64
	bread    atomic.Uint64
	bwritten atomic.Uint64
}

func newStats() *stats {
	st := &stats{hits: map[string]*atomic.Uint64{}, times: map[string]*atomic.Uint64{}}
	for _, r := range routes {
		st.hits[r] = new(atomic.Uint64)
		st.times[r] = new(atomic.Uint64)
	}
	return st
}

// metrics are the Prometheus view of the same traffic.
type metrics struct {
	requests *reqmetrics.Requests
	bytesIn  prometheus.Counter
	bytesOut prometheus.Counter
	// metaHits and metaMisses count chunk metadata found remembered or read
	// from the file (see metacache.go).
	metaHits, metaMisses prometheus.Counter
	handler              http.Handler
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		requests: reqmetrics.New("rawx", "requests"),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gridkeep_rawx_received_bytes_total",
			Help: "Chunk data bytes received in request bodies.",
		}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gridkeep_rawx_sent_bytes_total",
			Help: "Bytes sent in reply bodies.",
		}),
	}
	meta := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gridkeep_rawx_meta_cache_total",
		Help: "Chunk metadata loads by GET and HEAD: found remembered (hit) or read from the file (miss).",
	}, []string{"result"})
	m.metaHits, m.metaMisses = meta.WithLabelValues("hit"), meta.WithLabelValues("miss")
	reg.MustRegister(m.requests, m.bytesIn, m.bytesOut, meta,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// account records one answered request in /stat and in the metrics.
func (s *Server) account(route string, r *http.Request, rec *recorder, d time.Duration) {
	st := s.stats
	us := uint64(d.Microseconds())
	st.hits[route].Add(1)
	st.times[route].Add(us)
	st.allHits.Add(1)
	st.allTime.Add(us)
	switch c := rec.status; {
	case c == 403:
		st.rep403.Add(1)
	case c == 404:
		st.rep404.Add(1)
	case c >= 200 && c < 300:
		st.rep2xx.Add(1)
	case c >= 400 && c < 500:
		st.rep4xx.Add(1)
	case c >= 500 && c < 600:
		st.rep5xx.Add(1)
	default:
		st.repOther.Add(1)
	}
	st.bread.Add(uint64(rec.in))
	st.bwritten.Add(uint64(rec.bytes))

	s.metrics.requests.Observe(route, rec.status, d)
	s.metrics.bytesIn.Add(float64(rec.in))
	s.metrics.bytesOut.Add(float64(rec.bytes))
}

// serveStat answers /stat with OpenIO's "counter <name> <value>" lines.
func (s *Server) serveStat(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return errorf(http.StatusMethodNotAllowed, "")
	}
	if r.URL.Query().Get("format") == "prometheus" {
		s.metrics.handler.ServeHTTP(w, r)
		return nil
	}
	st := s.stats
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	line := func(name string, v uint64) { fmt.Fprintf(w, "counter %s %d\n", name, v) }
	line("req.hits", st.allHits.Load())
	line("req.time", st.allTime.Load())
	for _, route := range routes {
		line("req.hits."+route, st.hits[route].Load())
		line("req.time."+route, st.times[route].Load())
	}
	line("rep.hits.2xx", st.rep2xx.Load())
	line("rep.hits.4xx", st.rep4xx.Load())
	line("rep.hits.5xx", st.rep5xx.Load())
	line("rep.hits.403", st.rep403.Load())
	line("rep.hits.404", st.rep404.Load())
	line("rep.hits.other", st.repOther.Load())
	line("rep.bread", st.bread.Load())
	line("rep.bwritten", st.bwritten.Load())
	fmt.Fprintf(w, "config volume %s\n", s.cfg.Volume)
	fmt.Fprintf(w, "config service_id %s\n", s.id)
	return nil
}
