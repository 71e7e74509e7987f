// Package httpclient holds the HTTP transport shared by gridkeep's clients
// of its own services: chunk servers, the directory and rdir.
package httpclient

import (
	"net/http"
	"time"
)

// Transport keeps many idle keep-alive connections per server, so that a
// client running many requests at once reuses its connections instead of
// opening one per request (net/http's default transport keeps two per
// host). It never goes through a proxy and asks for no compression.
var Transport = &http.Transport{
	MaxIdleConns:          1024,
	MaxIdleConnsPerHost:   64,
	IdleConnTimeout:       90 * time.Second,
	DisableCompression:    true,
	ResponseHeaderTimeout: 60 * time.Second,
}

// Client returns an HTTP client on Transport whose requests time out after
// timeout (zero: never).
func Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: Transport, Timeout: timeout}
}
