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

// Parked returns how many calls are parked in s on the object id: waiting
// in a queue's Get, Put or Wait, a lock's Lock, a semaphore's Acquire, an
// event's or a barrier's Wait, or a Cond's Wait for a notification (not
// those waiting for a Cond's lock). Tests wait until it reaches a number
// to act once blocked calls have reached the server and parked, instead of
// guessing with a sleep.
func Parked(s *Server, id uint64) int {
	obj, err := s.object(id)
	if err != nil {
		return 0
	}
	switch o := obj.(type) {
	case *queueObj:
		return parkedOn(&o.mu, &o.sig)
	case *lockObj:
		return parkedOn(&o.mu, &o.sig)
	case *semObj:
		return parkedOn(&o.mu, &o.sig)
	case *eventObj:
		return parkedOn(&o.mu, &o.sig)
	case *barrierObj:
		return parkedOn(&o.mu, &o.sig)
	case *condObj:
		o.mu.Lock()
		defer o.mu.Unlock()
		return len(o.waiters)
	}
	return 0
}

func parkedOn(mu *sync.Mutex, sig *signal) int {
	mu.Lock()
	defer mu.Unlock()
	return sig.parked
}

// ProbeSetup gives a server that Start runs an object named "probe" whose
// method Parked(id) returns Parked for the object id, for tests of a server
// in another process.
var ProbeSetup = NewSetup("manager.probe", func(s *Server) error {
	s.Register("probe", &probe{s}, "Parked")
	return nil
})

type probe struct{ s *Server }

func (p *probe) Parked(id uint64) int { return Parked(p.s, id) }
