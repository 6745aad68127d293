package manager

import (
	"errors"
	"io"
	"net"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// spinFor is how long a reader polls its socket before it parks in the
// runtime's poller. Between two processes on one machine, waking a parked
// reader costs most of a round trip (here ≈ 15 µs with parking against
// ≈ 5 µs with polling); a caller making calls one after another sends its
// next request, and a server its reply, well within this window, so
// polling briefly keeps both sides awake. Polling adapts: a reader whose
// last message came more than coldAfter after it began to wait does not
// poll for the next (so that a server with many occasional clients does
// not spend its processors polling), until messages come quickly again.
const (
	spinFor   = 50 * time.Microsecond
	coldAfter = 10 * time.Millisecond
)

// spinReader reads from a socket, polling it for a short while before
// waiting in the runtime's poller.
type spinReader struct {
	rc syscall.RawConn
	// The state of one Read, kept here so that the function given to the
	// raw connection is made once, not once per Read.
	p      []byte
	n      int
	err    error
	readFn func(fd uintptr) bool
	start  time.Time // when the Read began
	cold   bool      // the last message came after coldAfter: do not poll
}

// newReader returns a reader for nc that polls before it parks, or nc
// itself when it is not a plain socket (TLS) or this process has a single
// processor to spin on.
func newReader(nc net.Conn) io.Reader {
	sc, ok := nc.(syscall.Conn)
	if !ok || runtime.GOMAXPROCS(0) < 2 {
		return nc
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nc
	}
	r := &spinReader{rc: rc}
	r.readFn = r.poll
	return r
}

// poll reads into r.p, polling for up to spinFor; it returns false to park
// until the socket is readable, after which the runtime calls it again.
func (r *spinReader) poll(fd uintptr) bool {
	deadline := r.start.Add(spinFor)
	for {
		r.n, r.err = unix.Read(int(fd), r.p)
		if r.err != unix.EAGAIN {
			r.cold = time.Since(r.start) > coldAfter
			return true
		}
		if r.cold || time.Now().After(deadline) {
			return false
		}
		runtime.Gosched()
	}
}

// Read reads from the socket. Only one goroutine may call it at a time.
func (r *spinReader) Read(p []byte) (int, error) {
	r.p, r.start = p, time.Now()
	err := r.rc.Read(r.readFn)
	n, rerr := r.n, r.err
	r.p, r.err = nil, nil
	switch {
	case err != nil:
		return 0, err
	case rerr != nil:
		if errors.Is(rerr, unix.ECONNRESET) {
			return 0, io.ErrUnexpectedEOF
		}
		return 0, rerr
	case n == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return n, nil
}
