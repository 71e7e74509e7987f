// Package reqmetrics counts the requests an HTTP service of gridkeep
// answers, and the time it took, by route and status code, for
// Prometheus: gridkeep_<service>_requests_total and
// gridkeep_<service>_request_duration_seconds.
package reqmetrics

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Requests holds the counters of one service. Register it with the
// service's registry. It is safe for concurrent use.
type Requests struct {
	count   *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

var _ prometheus.Collector = (*Requests)(nil)

// New returns the counters of service (rawx, meta, rdir); what names its
// requests in the help texts ("Directory requests").
func New(service, what string) *Requests {
	labels := []string{"route", "code"}
	return &Requests{
		count: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridkeep_" + service + "_requests_total",
			Help: strings.ToUpper(what[:1]) + what[1:] + " answered, by route and status code.",
		}, labels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gridkeep_" + service + "_request_duration_seconds",
			Help:    "Time to answer " + what + ", by route and status code.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, labels),
	}
}

// Observe records one answered request.
func (r *Requests) Observe(route string, status int, d time.Duration) {
	code := strconv.Itoa(status)
	r.count.WithLabelValues(route, code).Inc()
	r.latency.WithLabelValues(route, code).Observe(d.Seconds())
}

// Describe sends the descriptions of both metrics.
func (r *Requests) Describe(ch chan<- *prometheus.Desc) {
	r.count.Describe(ch)
	r.latency.Describe(ch)
}

// Collect sends the values of both metrics.
func (r *Requests) Collect(ch chan<- prometheus.Metric) {
	r.count.Collect(ch)
	r.latency.Collect(ch)
}
