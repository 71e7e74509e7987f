package rdir

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus view of the handler, served on /metrics.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	records  *prometheus.CounterVec
	handler  http.Handler
}

func newMetrics() *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridkeep_rdir_requests_total",
			Help: "Reverse index requests answered, by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gridkeep_rdir_request_duration_seconds",
			Help:    "Time to answer a reverse index request, by route and status code.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"route", "code"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridkeep_rdir_records_total",
			Help: "Records named by accepted pushes (written) and deletes (removed where present).",
		}, []string{"op"}),
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.requests, m.latency, m.records)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// observe records one answered request to path.
func (m *metrics) observe(path string, status int, d time.Duration) {
	route := "other"
	if _, ok := routes[path]; ok {
		route = strings.TrimPrefix(path, "/v1/rdir/")
	}
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, code).Inc()
	m.latency.WithLabelValues(route, code).Observe(d.Seconds())
}
