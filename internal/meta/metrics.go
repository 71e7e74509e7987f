package meta

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gridkeep/gridkeep/internal/reqmetrics"
)

// metrics are the Prometheus view of the server, served on /metrics.
type metrics struct {
	requests *reqmetrics.Requests
	handler  http.Handler
}

func newMetrics(reg *Registry) *metrics {
	m := &metrics{requests: reqmetrics.New("meta", "directory requests")}
	pr := prometheus.NewRegistry()
	pr.MustRegister(m.requests, servicesCollector{reg},
		prometheus.NewGoCollector(),
		prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(pr, promhttp.HandlerOpts{})
	return m
}

// observe records one answered request. pattern is the route pattern the
// request matched, empty for none.
func (m *metrics) observe(pattern string, status int, d time.Duration) {
	m.requests.Observe(routeLabel(pattern), status, d)
}

// routeLabel turns "POST /v3.0/{ns}/content/create" into "content/create".
func routeLabel(pattern string) string {
	_, path, _ := strings.Cut(pattern, " ")
	for _, p := range []string{"/v3.0/{ns}/", "/v1.0/", "/"} {
		if rest, ok := strings.CutPrefix(path, p); ok && rest != "" {
			return rest
		}
	}
	return "other"
}

var servicesDesc = prometheus.NewDesc("gridkeep_meta_services",
	"Services in the registry, by type and liveness.", []string{"type", "state"}, nil)

// servicesCollector counts the registry's services when scraped.
type servicesCollector struct{ reg *Registry }

func (c servicesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- servicesDesc }

func (c servicesCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ typ, state string }
	counts := map[key]int{}
	for _, s := range c.reg.List("") {
		state := "dead"
		if s.Alive {
			state = "alive"
		}
		counts[key{s.Type, state}]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(servicesDesc, prometheus.GaugeValue, float64(n),
			k.typ, k.state)
	}
}
