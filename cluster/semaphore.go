package cluster

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/mpgo/mp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// SemaphoreOptions configure a Semaphore proxy.
type SemaphoreOptions struct {
	// TTL is how long a unit stands after its holder last refreshed it,
	// as for a Lock (see LockOptions.TTL). Zero means 10 seconds.
	TTL time.Duration
}

// Semaphore is a bounded semaphore shared by every process that opens its
// name on the same engine (Python: a manager's BoundedSemaphore): value
// units, each a lease held like a Lock. Each unit is a key of the engine's
// MP_STATE bucket (its slot); Acquire takes a free slot, or waits watching
// all of them, and takes over the slot of a holder that stopped refreshing
// it once its TTL has passed, returning mp.ErrOwnerDead with the unit
// held. See Lock for how expiry is measured and what a lease that ends
// while its holder runs means.
//
// A unit is held by the proxy that acquired it: Release gives back the
// oldest unit this proxy holds, and returns mp.ErrTooManyReleases if it
// holds none. Unlike Python's Semaphore, units cannot be released by
// another process or made beyond value.
//
// A *Semaphore is safe for concurrent use.
type Semaphore struct {
	cl    cell
	nc    *nats.Conn
	value int
	slots []string
	ttl   time.Duration

	// mu guards held.
	mu   sync.Mutex
	held []*lease // oldest first
}

// NewSemaphore opens the semaphore named name on c, making it with value
// units if it does not exist; one that exists keeps the value it was made
// with. It panics if value < 1.
func NewSemaphore(ctx context.Context, c *Cluster, name string, value int, o *SemaphoreOptions) (*Semaphore, error) {
	if value < 1 {
		panic("cluster: NewSemaphore with a value under 1")
	}
	ttl := 10 * time.Second
	if o != nil && o.TTL != 0 {
		if o.TTL < 30*time.Millisecond {
			panic("cluster: NewSemaphore with a TTL under 30ms")
		}
		ttl = o.TTL
	}
	cl, err := openCell(ctx, c, "semaphore", name)
	if err != nil {
		return nil, err
	}
	value, err = cl.fixValue(ctx, value)
	if err != nil {
		return nil, err
	}
	s := &Semaphore{cl: cl, nc: c.nc, value: value, ttl: ttl}
	for i := range value {
		s.slots = append(s.slots, cl.key+"."+strconv.Itoa(i))
	}
	return s, nil
}

// fixValue writes value as the semaphore's if it has none yet, and
// returns the one it has.
func (cl cell) fixValue(ctx context.Context, value int) (int, error) {
	data, err := encode(value)
	if err != nil {
		return 0, err
	}
	if _, err := cl.kv.Create(ctx, cl.key, data); err == nil || !isConflict(err) {
		if err != nil {
			return 0, cl.error("create", err)
		}
		return value, nil
	}
	e, err := cl.get(ctx)
	if err != nil {
		return 0, err
	}
	if e == nil {
		return 0, cl.error("open", fmt.Errorf("its value was deleted"))
	}
	err = decode(e.Value(), &value)
	return value, err
}

// Name returns the semaphore's name.
func (s *Semaphore) Name() string { return s.cl.name }

func (s *Semaphore) state() leaseState { return leaseState{Owner: randomOwner(), TTL: s.ttl} }

// Acquire takes a unit, waiting while all are held. If ctx ends first,
// the error matches ctx's error (and mp.ErrTimeout for a deadline) and no
// unit is taken. A unit taken over from a holder that stopped refreshing
// it comes with an error matching mp.ErrOwnerDead.
func (s *Semaphore) Acquire(ctx context.Context) error {
	ls, dead, err := acquire(ctx, s.nc, s.cl, s.slots, s.state())
	if err != nil {
		return err
	}
	s.hold(ls)
	if dead {
		return fmt.Errorf("cluster: semaphore %q: a holder stopped refreshing its unit: %w", s.cl.name, mp.ErrOwnerDead)
	}
	return nil
}

// TryAcquire takes a unit if one is free now, and reports whether it did.
// It never takes over a dead holder's unit.
func (s *Semaphore) TryAcquire(ctx context.Context) (bool, error) {
	ls, err := tryAcquire(ctx, s.cl, s.slots, s.state())
	if ls == nil || err != nil {
		return false, err
	}
	s.hold(ls)
	return true, nil
}

func (s *Semaphore) hold(ls *lease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = append(s.held, ls)
}

// Release gives back the oldest unit this proxy holds. It returns
// mp.ErrTooManyReleases if it holds none, and mp.ErrNotOwner if the
// unit's lease had ended (see Lock).
func (s *Semaphore) Release(ctx context.Context) error {
	s.mu.Lock()
	if len(s.held) == 0 {
		s.mu.Unlock()
		return fmt.Errorf("cluster: semaphore %q: release with no unit held: %w", s.cl.name, mp.ErrTooManyReleases)
	}
	ls := s.held[0]
	s.held = s.held[1:]
	s.mu.Unlock()
	return ls.release(ctx)
}

// Value returns the number of units no one holds, as far as a waiter can
// tell (a dead holder's unit counts as held until someone takes it over).
func (s *Semaphore) Value(ctx context.Context) (int, error) {
	free := s.value
	for _, key := range s.slots {
		e, err := s.cl.kv.Get(ctx, key)
		if err == nil && e.Operation() == jetstream.KeyValuePut {
			free--
		} else if err != nil && !isAbsent(err) {
			return 0, s.cl.error("value", err)
		}
	}
	return free, nil
}
