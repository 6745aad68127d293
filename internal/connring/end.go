package connring

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/internal/ctxio"
	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/futex"
	"github.com/mpgo/mp/internal/lockcore"
	"github.com/mpgo/mp/internal/shmem"
	"github.com/mpgo/mp/internal/spin"
	"github.com/mpgo/mp/internal/transport"
	"golang.org/x/sys/unix"
)

// End is one end of a pipe, in one process: a socket and the mapping of
// the pipe's memory. Its methods are safe for concurrent use; any number
// of processes may hold the same end.
type End struct {
	sock *transport.Conn
	reg  *shmem.Region
	side int
	// out is the direction this end sends on, in the one it reads.
	out, in dir

	// live is held (shared) by every operation and exclusively by Close,
	// which closes the socket and unmaps the memory only once no
	// operation runs: a receive that has taken a ticket finishes taking its
	// datagram. life ends when Close starts, which ends every wait.
	live   sync.RWMutex
	closed atomic.Bool
	life   context.Context
	end    context.CancelFunc

	// rmu serializes this process's receives (and polls) on this end, wmu
	// its sends.
	rmu, wmu ctxio.Lock
	// wait is how a receive polls the ring before it sleeps; used under rmu.
	wait     spin.Waiter
	notEmpty func() bool

	// maxSize caps a received message (zero: 1 GiB).
	maxSize atomic.Int64
	// checked is when a send last looked for a closed peer (nanoseconds
	// since epoch); gone is set once it found the peer closed, which it
	// stays.
	checked atomic.Int64
	gone    atomic.Bool
}

// epoch is this process's clock origin for End.checked.
var epoch = time.Now()

// errPeerGone is a send's error once every copy of the other end is
// closed, as a socket gives it.
var errPeerGone = fmt.Errorf("mp: send: %w", unix.EPIPE)

// peerCheck is how often, at most, a send looks whether the other end is
// still open: a look is a system call, and a send into the ring makes none.
const peerCheck = time.Millisecond

// Pair makes a new pipe with rings of ringSize bytes (zero: RingSize; else
// a power of two from 4 KiB to 64 MiB) and returns its two ends, side 0
// and side 1.
func Pair(ringSize int) (*End, *End, error) {
	if ringSize == 0 {
		ringSize = RingSize
	}
	if ringSize < minRingSize || ringSize > maxRingSize || ringSize&(ringSize-1) != 0 {
		return nil, nil, fmt.Errorf("mp: PipeOptions.RingSize %d: want a power of two from %d to %d", ringSize, minRingSize, maxRingSize)
	}
	s0, s1, err := transport.Pair()
	if err != nil {
		return nil, nil, err
	}
	closeAll := func() {
		s0.Close()
		s1.Close()
	}
	if !s0.CanTry() {
		closeAll()
		return nil, nil, errors.ErrUnsupported
	}
	r0, err := newRegion(ringSize)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	dup, err := unix.FcntlInt(uintptr(r0.FD()), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		r0.Close()
		closeAll()
		return nil, nil, fmt.Errorf("mp: dup: %w", err)
	}
	r1, err := shmem.FromFD(dup)
	if err != nil {
		r0.Close()
		closeAll()
		return nil, nil, err
	}
	return newEnd(s0, r0, ringSize, 0), newEnd(s1, r1, ringSize, 1), nil
}

func newEnd(sock *transport.Conn, reg *shmem.Region, ringSize, side int) *End {
	mem := reg.Bytes()
	e := &End{
		sock: sock, reg: reg, side: side,
		out: dirOf(mem, ringSize, side),
		in:  dirOf(mem, ringSize, 1-side),
		rmu: ctxio.NewLock(), wmu: ctxio.NewLock(),
	}
	e.notEmpty = func() bool { return !e.in.empty() }
	e.life, e.end = context.WithCancel(context.Background())
	return e
}

// Attach makes an End of the descriptors Control gives another process (the
// socket, the memory) and the end's side; it takes ownership of them (on
// error they are closed).
func Attach(fds [2]int, side int) (*End, error) {
	if side != 0 && side != 1 {
		descr.Close(fds[:])
		return nil, corrupt(fmt.Sprintf("side %d", side))
	}
	reg, err := shmem.FromFD(fds[1])
	if err != nil {
		unix.Close(fds[0])
		return nil, err
	}
	ringSize, err := ringSizeOf(reg.Bytes())
	if err != nil {
		reg.Close()
		unix.Close(fds[0])
		return nil, err
	}
	sock, err := transport.NewConn(fds[0])
	if err != nil {
		reg.Close()
		return nil, err
	}
	if !sock.CanTry() {
		reg.Close()
		sock.Close()
		return nil, errors.ErrUnsupported
	}
	return newEnd(sock, reg, ringSize, side), nil
}

// Side is the end's side, 0 or 1: it sends on ring Side and reads the
// other.
func (e *End) Side() int { return e.side }

// Control calls fn with the end's descriptors (socket, memory), which stay
// open until fn returns.
func (e *End) Control(fn func(fds [2]int)) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.live.RUnlock()
	return e.sock.Control(func(s int) { fn([2]int{s, e.reg.FD()}) })
}

// SetMaxSize caps the size of the messages this end receives (zero or less:
// 1 GiB). A larger message is discarded with an error matching
// errs.ErrTooLarge.
func (e *End) SetMaxSize(n int) {
	e.maxSize.Store(int64(n))
	e.sock.SetMaxSize(n)
}

func (e *End) limit() int {
	if n := e.maxSize.Load(); n > 0 {
		return int(n)
	}
	return 1 << 30
}

// SetSpin switches off (or on again) the polling of the ring a receive
// does before it sleeps (package spin).
func (e *End) SetSpin(on bool) { e.wait.SetPolling(on) }

// enter starts an operation: it holds live shared, unless the End is
// closed.
func (e *End) enter() error {
	// Close is live's only writer and sets closed first: a read lock
	// refused means Close is under way (RLock would wait for it, and it
	// may be waiting for this caller's own loan).
	if !e.live.TryRLock() {
		return errs.ErrClosed
	}
	if e.closed.Load() {
		e.live.RUnlock()
		return errs.ErrClosed
	}
	return nil
}

// Close closes this end in this process. Blocked operations return
// errs.ErrClosed.
func (e *End) Close() error {
	if e.closed.Swap(true) {
		return errs.ErrClosed
	}
	// Ending life ends sleeps in the poller and waits for room; a sender
	// asleep on the read count is woken to see it.
	e.end()
	futex.WakeAll(e.out.pops)
	e.live.Lock()
	err := e.sock.Close()
	e.reg.Close()
	e.live.Unlock()
	return err
}

// withLife returns ctx, ended also when the End closes, for a wait.
func (e *End) withLife(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(e.life, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// lock takes one of a direction's locks. A holder that died leaves a ring
// every step of whose changes was committed by one store (see the package
// doc), so there is nothing to repair.
func lock(ctx context.Context, lk *lockcore.Mutex) error {
	if lk.TryFast() {
		return nil
	}
	_, err := lk.Lock(ctx)
	return err
}

// lock is the package's lock, with the End's life: Close ends a wait for
// a lock that another process holds (stopped, say) with errs.ErrClosed.
func (e *End) lock(ctx context.Context, lk *lockcore.Mutex) error {
	if lk.TryFast() {
		return nil
	}
	lctx, stop := e.withLife(ctx)
	defer stop()
	_, err := lk.Lock(lctx)
	if err != nil && e.closed.Load() {
		return errs.ErrClosed
	}
	return err
}

// since is the time since epoch, in nanoseconds.
func since() int64 { return int64(time.Since(epoch)) }

// peerGone returns an error matching EPIPE if every copy of the other end
// is closed. Unless force, it looks at most once per peerCheck.
func (e *End) peerGone(force bool) error {
	if e.gone.Load() {
		return errPeerGone
	}
	now := since()
	if !force && now-e.checked.Load() < int64(peerCheck) {
		return nil
	}
	e.checked.Store(now)
	var hup bool
	err := e.sock.Control(func(fd int) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		if n, err := unix.Poll(pfd, 0); err == nil && n > 0 {
			hup = pfd[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0
		}
	})
	if err != nil {
		return err
	}
	if hup {
		e.gone.Store(true)
		return errPeerGone
	}
	return nil
}

// ticket encodes a ticket's payload: the datagram's number, and the size
// of its payload if it travels inline (else 0).
func ticket(seq uint32, size int) []byte {
	if size < 0 || size > math.MaxUint32 {
		size = 0
	}
	return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, seq), uint32(size))
}

// ticketOf decodes a ticket's payload.
func ticketOf(payload []byte) (seq uint32, size int) {
	return binary.LittleEndian.Uint32(payload), int(binary.LittleEndian.Uint32(payload[4:]))
}
