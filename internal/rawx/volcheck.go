package rawx

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// volumeCheckInterval is how often requests find out whether the volume's
// path still leads to the directory the server opened.
const volumeCheckInterval = time.Second

// volumeCheck remembers the last verdict on the volume's path.
type volumeCheck struct {
	every time.Duration
	last  atomic.Int64          // when the path was last checked, in Unix nanoseconds
	err   atomic.Pointer[error] // why the volume is out of reach, nil when it is not
}

// volumeLost returns why the server cannot serve chunks, checking at most
// once per interval: the volume's path no longer leads to the directory
// the server opened and locked (it was moved, renamed or unmounted).
// Chunk requests then fail with 503 rather than reach, by their paths, a
// directory tree the server does not hold: a write there would create one.
// A volume put back where it was is served again at the next check.
func (s *Server) volumeLost(now time.Time) error {
	last := s.volCheck.last.Load()
	if now.UnixNano()-last >= int64(s.volCheck.every) &&
		s.volCheck.last.CompareAndSwap(last, now.UnixNano()) {
		return s.checkVolume()
	}
	if p := s.volCheck.err.Load(); p != nil {
		return *p
	}
	return nil
}

// CheckVolume returns an error, the one chunk requests then get, when the
// volume's path no longer leads to the directory the server holds. It
// checks now, whatever the last check found.
func (s *Server) CheckVolume() error {
	s.volCheck.last.Store(time.Now().UnixNano())
	return s.checkVolume()
}

// checkVolume checks the volume's path and records the verdict.
func (s *Server) checkVolume() error {
	err := s.sameVolume()
	if err == nil {
		if s.volCheck.err.Swap(nil) != nil {
			s.log.Warn("volume back", "volume", s.cfg.Volume)
		}
		return nil
	}
	// Clients are told why, not where the server keeps its files; the
	// log says where.
	err = errorf(http.StatusServiceUnavailable, "the volume is out of reach: %v: put the volume "+
		"back at its path, or restart the chunk server on the path it has now", err)
	if s.volCheck.err.Swap(&err) == nil {
		s.log.Error("volume out of reach", "volume", s.cfg.Volume, "err", err)
	}
	return err
}

// sameVolume returns an error unless the volume's path names the open
// volume directory.
func (s *Server) sameVolume() error {
	var opened, named unix.Stat_t
	if err := s.inVolume(func(fd int) error { return unix.Fstat(fd, &opened) }); err != nil {
		return err
	}
	if err := unix.Stat(s.cfg.Volume, &named); err != nil {
		return fmt.Errorf("the path leads nowhere (%w)", err)
	}
	if named.Dev != opened.Dev || named.Ino != opened.Ino {
		return fmt.Errorf("the path no longer leads to the directory the server opened " +
			"(moved, renamed or unmounted)")
	}
	return nil
}
