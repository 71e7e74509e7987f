package rdir

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gridkeep/gridkeep/internal/reqmetrics"
)

// metrics are the Prometheus view of the handler, served on /metrics.
type metrics struct {
	requests *reqmetrics.Requests
	records  *prometheus.CounterVec
	handler  http.Handler
}

func newMetrics() *metrics {
	m := &metrics{
		requests: reqmetrics.New("rdir", "reverse index requests"),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridkeep_rdir_records_total",
			Help: "Records named by pushes (written) and deletes (removed where present) accepted " +
				"through the HTTP API.",
		}, []string{"op"}),
	}
	for _, op := range []string{"pushed", "deleted"} {
		m.records.WithLabelValues(op) // shown at 0 before the first
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.requests, m.records)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// observe records one answered request to path.
func (m *metrics) observe(path string, status int, d time.Duration) {
	route := "other"
	if _, ok := routes[path]; ok {
		route = strings.TrimPrefix(path, "/v1/rdir/")
	}
	m.requests.Observe(route, status, d)
}
