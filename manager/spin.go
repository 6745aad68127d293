package manager

import (
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/mpgo/mp/internal/spin"
	"golang.org/x/sys/unix"
)

// spinReader reads from a socket, polling it briefly before it parks in
// the runtime's poller, by mp's one rule for that (package spin): a caller
// making calls one after another sends its next request, and a server its
// reply, well within the polling window, so polling keeps both sides awake
// (between two processes here, a round trip costs about 15 µs with parking
// against 5 µs with polling). A reader whose last message was long in
// coming does not poll for the next, so that a server with many occasional
// clients does not spend its processors polling.
type spinReader struct {
	rc syscall.RawConn
	w  spin.Waiter
	// The state of one Read, kept here so that the function given to the
	// raw connection is made once, not once per Read.
	p      []byte
	n      int
	err    error
	fd     int
	readFn func(fd uintptr) bool
	tryFn  func() bool
}

// newReader returns a reader for nc that polls before it parks, or nc
// itself when it is not a plain socket (TLS).
func newReader(nc net.Conn) io.Reader {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nc
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nc
	}
	r := &spinReader{rc: rc}
	r.readFn = r.poll
	r.tryFn = r.try
	return r
}

// poll reads into r.p, polling for a while; it returns false to park until
// the socket is readable, after which the runtime calls it again.
func (r *spinReader) poll(fd uintptr) bool {
	r.fd = int(fd)
	return r.w.Until(r.tryFn)
}

// try makes one read, and reports whether it got an answer.
func (r *spinReader) try() bool {
	r.n, r.err = unix.Read(r.fd, r.p)
	return r.err != unix.EAGAIN
}

// Read reads from the socket. Only one goroutine may call it at a time.
func (r *spinReader) Read(p []byte) (int, error) {
	r.p = p
	start := time.Now()
	err := r.rc.Read(r.readFn)
	r.w.Waited(time.Since(start))
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
