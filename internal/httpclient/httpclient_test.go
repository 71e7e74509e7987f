package httpclient

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentRequestsReuseConnections sends rounds of concurrent requests
// and checks that the server saw about as many connections as there were
// requests at once (twice that, as a request waiting for a new connection
// may take one freed meanwhile and leave its own idle): with net/http's
// default of two idle connections per host, most requests of each round
// would open one.
func TestConcurrentRequestsReuseConnections(t *testing.T) {
	const workers, rounds = 16, 20
	var opened atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(2 * time.Millisecond) // keep the requests of a round in flight together
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	c := Client(10 * time.Second)
	for range rounds {
		// Every connection is idle between rounds, with no request
		// waiting for it.
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		wg.Wait()
	}
	if n := opened.Load(); n > 2*workers {
		t.Fatalf("%d requests opened %d connections, want at most %d", workers*rounds, n, 2*workers)
	}
}
