package manager

import (
	"sync"
	"time"
)

// Clock is a clock that tests move by hand, for release delays.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads the current time until moved.
func NewClock() *Clock { return &Clock{now: time.Now()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock d forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// UseClock makes s measure release delays by c. Call it before Serve.
func UseClock(s *Server, c *Clock) { s.clock = c.Now }

// FreeDue frees, before it returns, every object of s whose release delay
// has passed by s's clock, as s's janitor does in its own time: tests call
// it instead of waiting for the janitor.
func FreeDue(s *Server) {
	for s.freeDue() == 0 { // it freed something, which may have made more due
	}
}
