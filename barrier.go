package mp

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/funcs"
	"github.com/mpgo/mp/internal/lockcore"
	"github.com/mpgo/mp/internal/shmem"
)

// Barrier makes a fixed number of parties — processes or goroutines — wait
// for each other (Python: multiprocessing.Barrier). Each calls Wait; when the
// last one arrives, all are released together, and the barrier is ready for
// the next round.
//
// If a party's wait ends early (its context ends, or the barrier's default
// timeout passes) or Abort is called, the barrier breaks: every party
// waiting, and every later Wait until Reset, fails with ErrBrokenBarrier.
// A party whose process dies while it waits breaks the barrier, as a
// timeout does: the parties still waiting notice as soon as it has exited
// (see Mutex), and the last to arrive at once, and fail with
// ErrBrokenBarrier (Python's Barrier leaves them waiting). The deaths of up to 64 processes waiting at once
// are tracked.
//
// A Barrier is a handle: it travels to other processes, with its
// configuration, in a Process's argument or in a message.
type Barrier struct {
	r      *shmem.Region
	st     *lockcore.Barrier
	action string
}

// BarrierConfig holds the optional settings of a Barrier.
type BarrierConfig struct {
	// Action, if set, runs once per round in the process of the last party
	// to arrive, before any party is released. It is a registered function
	// (see Register), so that every process that may arrive last has it. If
	// it fails, the barrier breaks and that party's Wait returns its error.
	Action Func[struct{}, struct{}]
	// Timeout, if positive, bounds every Wait, in every process, on top of
	// its context's own deadline. Zero means no bound; NewBarrier panics on
	// a negative duration.
	Timeout time.Duration
}

// barrierMeta is what travels with a Barrier's descriptor.
type barrierMeta struct {
	Action string
}

// NewBarrier returns a Barrier for parties parties. It panics if parties is
// less than 1 or cfg.Timeout is negative.
func NewBarrier(parties int, cfg BarrierConfig) (*Barrier, error) {
	if parties < 1 || parties > 1<<30 {
		panic(fmt.Sprintf("mp: NewBarrier with %d parties", parties))
	}
	if cfg.Timeout < 0 {
		panic(fmt.Sprintf("mp: NewBarrier with Timeout %v: want 0 (no bound) or more", cfg.Timeout))
	}
	r, p, err := newRegion(shmem.KindBarrier, int(unsafe.Sizeof(lockcore.Barrier{})))
	if err != nil {
		return nil, err
	}
	st := (*lockcore.Barrier)(p)
	st.Parties.Store(uint32(parties))
	st.Timeout.Store(int64(cfg.Timeout))
	return &Barrier{r: r, st: st, action: cfg.Action.name}, nil
}

// Wait waits until every party has called Wait, and returns the caller's
// arrival index, from 0 for the first to Parties()-1 for the last (Python
// returns the same). It returns ErrBrokenBarrier if the barrier is or
// becomes broken; for the party whose context (or the default timeout) ended,
// the error matches ctx's error too. The last party's Action error is
// returned as is.
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	if b.st == nil {
		return 0, ErrClosed
	}
	if t := time.Duration(b.st.Timeout.Load()); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	var action func() error
	if b.action != "" {
		action = func() error { return runAction(ctx, b.action) }
	}
	i, ctxErr, err := b.st.Wait(ctx, action)
	switch {
	case errors.Is(err, ErrBrokenBarrier) && ctxErr != nil:
		return i, errs.WithContext(ErrBrokenBarrier, ctxErr)
	case errors.Is(err, ErrBrokenBarrier):
		return i, ErrBrokenBarrier
	case err != nil && err == ctxErr:
		return i, lockError(err)
	}
	return i, err
}

// runAction runs the registered function name in this process.
func runAction(ctx context.Context, name string) error {
	inv, ok := funcs.Lookup(name)
	if !ok {
		return fmt.Errorf("mp: barrier action %q: %w", name, ErrUnknownFunction)
	}
	arg, fds, err := encodeArg(struct{}{})
	if err != nil {
		return err
	}
	_, resFDs, err := inv(ctx, arg, fds)
	descr.Close(resFDs)
	var panicked *errs.Remote
	if errors.As(err, &panicked) { // a panic, as a *RemoteError with its stack
		err = remoteError(errs.Describe(name, err))
	}
	if err != nil {
		return fmt.Errorf("mp: barrier action %s: %w", name, err)
	}
	return nil
}

// Abort breaks the barrier: every party waiting, and every later Wait until
// Reset, fails with ErrBrokenBarrier.
func (b *Barrier) Abort() error {
	if b.st == nil {
		return ErrClosed
	}
	b.st.Abort()
	return nil
}

// Reset returns the barrier to its initial, empty state. Parties waiting
// now fail with ErrBrokenBarrier.
func (b *Barrier) Reset() error {
	if b.st == nil {
		return ErrClosed
	}
	b.st.Reset()
	return nil
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() bool { return b.st != nil && b.st.Broken() }

// Parties returns how many parties the barrier waits for.
func (b *Barrier) Parties() int {
	if b.st == nil {
		return 0
	}
	return int(b.st.Parties.Load())
}

// NWaiting returns how many parties wait at the barrier now (Python:
// n_waiting).
func (b *Barrier) NWaiting() int {
	if b.st == nil {
		return 0
	}
	return b.st.Waiting()
}

// Close releases this process's mapping of the barrier and its descriptor.
// Close must not be called while other goroutines use the barrier; it is
// safe to call twice.
func (b *Barrier) Close() error {
	b.st = nil
	return closeRegion(&b.r)
}

// MarshalCBOR is plumbing: part of how a Barrier travels to another
// process (see Handles in the package doc); not for direct use.
func (b *Barrier) MarshalCBOR() ([]byte, error) {
	return marshalRegion(barrierTag, b.r, barrierMeta{Action: b.action})
}

// UnmarshalCBOR is plumbing: part of how a Barrier travels to another
// process (see Handles in the package doc); not for direct use.
func (b *Barrier) UnmarshalCBOR(data []byte) error {
	var meta barrierMeta
	r, p, err := unmarshalRegion(data, barrierTag, shmem.KindBarrier, int(unsafe.Sizeof(lockcore.Barrier{})), &meta)
	if err != nil {
		return err
	}
	*b = Barrier{r: r, st: (*lockcore.Barrier)(p), action: meta.Action}
	return nil
}
