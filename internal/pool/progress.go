package pool

import (
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/memfile"
	"golang.org/x/sys/unix"
)

// progress is a small shared-memory page through which a worker tells its
// pool, without a message, which task it is running: the pool reads it when
// the worker dies (to fail exactly the task that was running and run the
// others again) and when a deadline passes (to know whether the task has
// started and for how long it has run). The worker writes it with a
// sequence lock: gen is odd while the fields change.
//
// After the words comes a copy of the results the worker holds for its
// next batch (see workerLoop.addResult), so that a worker that dies before
// sending them does not take finished tasks' results with it: the pool
// reads them once the worker is gone. The pend word is how many bytes of
// the copy are whole records, or pendNone when the held results could not
// be copied (they carry descriptors, or do not fit).
type progress struct {
	mem []byte
}

// progressSnap is one consistent reading of a progress page.
type progressSnap struct {
	// Task is the id of the running task, 0 when the worker is between
	// tasks.
	Task uint64
	// Item is the index of the running item of a chunk.
	Item uint64
	// Start is when the item started, on the monotonic clock shared by the
	// processes of the machine.
	Start time.Duration
	// Last is the id of the last task the worker started, kept after it ends.
	Last uint64
}

const (
	progGen = iota
	progTask
	progItem
	progStart
	progLast
	progPend
	progWords
)

const (
	pendOff  = 4096               // where the copy of held results starts
	pendSize = batchBytes + 8<<10 // room for a full batch
	progSize = pendOff + pendSize // bytes of the memfd
	pendNone = ^uint64(0)         // the held results are not in the copy
)

// newProgress creates a progress page and returns it with its memfd, which
// the caller sends to the worker and then closes.
func newProgress() (*progress, int, error) {
	fd, err := memfile.Create("mp-pool-progress", progSize)
	if err != nil {
		return nil, -1, fmt.Errorf("mp: pool progress page: %w", err)
	}
	// Sealed at its size where the system can, so that a worker cannot
	// shrink the page under the pool's mapping.
	if err := memfile.Seal(fd, memfile.FixedSize); err != nil {
		unix.Close(fd)
		return nil, -1, fmt.Errorf("mp: pool progress page: %w", err)
	}
	pg, err := mapProgress(fd)
	if err != nil {
		unix.Close(fd)
		return nil, -1, err
	}
	return pg, fd, nil
}

// mapProgress maps the progress page of fd, sizing it first if needed. It
// does not take ownership of fd.
func mapProgress(fd int) (*progress, error) {
	size := progSize
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("mp: pool progress page: %w", err)
	}
	if st.Size == 0 {
		if err := unix.Ftruncate(fd, int64(size)); err != nil {
			return nil, fmt.Errorf("mp: pool progress page: %w", err)
		}
	} else if st.Size != int64(size) {
		return nil, fmt.Errorf("%w: progress page of %d bytes", errs.ErrProtocol, st.Size)
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mp: pool progress page: %w", err)
	}
	return &progress{mem: mem}, nil
}

func (p *progress) word(i int) *atomic.Uint64 {
	return (*atomic.Uint64)(unsafe.Pointer(&p.mem[i*8]))
}

// set records that the worker runs item of task (task 0: none).
func (p *progress) set(task, item uint64) {
	gen := p.word(progGen)
	gen.Add(1)
	p.word(progTask).Store(task)
	p.word(progItem).Store(item)
	p.word(progStart).Store(uint64(monotonicNow()))
	if task != 0 {
		p.word(progLast).Store(task)
	}
	gen.Add(1)
}

// read returns a consistent snapshot, or the zero snapshot if the writer
// died in the middle of an update (it then ran no task worth blaming).
func (p *progress) read() progressSnap {
	for range 1000 {
		g := p.word(progGen).Load()
		if g%2 == 1 {
			continue
		}
		s := progressSnap{
			Task:  p.word(progTask).Load(),
			Item:  p.word(progItem).Load(),
			Start: time.Duration(p.word(progStart).Load()),
			Last:  p.word(progLast).Load(),
		}
		if p.word(progGen).Load() == g {
			return s
		}
	}
	return progressSnap{}
}

// holdResults records that the worker holds the batch b, copying it when
// it can (copyable: it carries no descriptors and fits).
func (p *progress) holdResults(b []byte, copyable bool) {
	if !copyable || len(b) > pendSize {
		p.word(progPend).Store(pendNone)
		return
	}
	old := p.word(progPend).Load() // bytes copied before; pendNone is larger than any b
	if old > uint64(len(b)) {
		old = 0
	}
	copy(p.mem[pendOff+int(old):], b[old:])
	p.word(progPend).Store(uint64(len(b)))
}

// sentResults records that the worker holds no results any more.
func (p *progress) sentResults() { p.word(progPend).Store(0) }

// heldResults returns a copy of the results a dead worker held, if they
// were copied whole.
func (p *progress) heldResults() ([]byte, bool) {
	n := p.word(progPend).Load()
	if n == pendNone || n > pendSize {
		return nil, false
	}
	return append([]byte(nil), p.mem[pendOff:pendOff+int(n)]...), true
}

func (p *progress) close() {
	if p != nil && p.mem != nil {
		unix.Munmap(p.mem)
		p.mem = nil
	}
}

// monoBase pairs a reading of CLOCK_MONOTONIC with a Go time, so that
// monotonicNow can use Go's cheap clock afterwards.
var monoBase = func() struct {
	at   time.Time
	mono time.Duration
} {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return struct {
		at   time.Time
		mono time.Duration
	}{time.Now(), time.Duration(ts.Nano())}
}()

// monotonicNow returns CLOCK_MONOTONIC, which every process on the machine
// shares (unlike Go's monotonic readings, which are private to a process),
// without a system call: Go's monotonic clock runs at the same rate.
func monotonicNow() time.Duration {
	return monoBase.mono + time.Since(monoBase.at)
}
