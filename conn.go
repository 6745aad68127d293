package mp

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/mpgo/mp/internal/background"
	"github.com/mpgo/mp/internal/connring"
	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/platform"
	"github.com/mpgo/mp/internal/transport"
	"github.com/mpgo/mp/internal/wire"
)

// Kinds of messages on a Conn.
const (
	msgValue byte = 1 // a value encoded with mp's codec
	msgBytes byte = 2 // raw bytes from SendBytes
)

const connTag = wire.TagBase + 0x01

// Conn is one end of a Pipe (Python: multiprocessing.connection.Connection).
// It sends and receives whole messages: Go values (Send, Recv) or raw bytes
// (SendBytes, RecvBytes). It is safe for concurrent use by many goroutines;
// each message arrives whole, to exactly one receiver.
//
// A Conn is a handle: placed in a Process's argument, or in a message sent
// on another Conn or a queue, it reaches the other process as a working Conn
// on the same pipe. The other end sees io.EOF once every copy of this end, in
// every process, is closed.
type Conn struct {
	// A Pipe's end is r (shared-memory rings, package connring) where the
	// system has them; a Conn made by Listen or Dial, or a Pipe's end on
	// the portable mechanisms, is t (a socket).
	r        *connring.End
	t        *transport.Conn
	readable bool
	writable bool
	// network: made by Listen or Dial, across a boundary of trust; its
	// default cap is DefaultNetMaxMessageSize.
	network bool
}

// Caps on the size of a message a Conn receives, unless SetMaxMessageSize
// sets another.
const (
	// DefaultMaxMessageSize caps the messages a Pipe's ends receive: the
	// other end is this program or one of its children.
	DefaultMaxMessageSize = 1 << 30
	// DefaultNetMaxMessageSize caps the messages a Conn made by Listen or
	// Dial receives: its peer is any process that knows the key, perhaps
	// on another machine.
	DefaultNetMaxMessageSize = 32 << 20
)

// connMeta is what travels with a Conn's descriptor.
type connMeta struct {
	Readable, Writable bool
	// Ring: the descriptors are a ring pipe's (socket, memory), and Side
	// is the end's side.
	Ring bool `cbor:",omitempty"`
	Side int  `cbor:",omitempty"`
}

// ringPipes says whether Pipe carries messages through shared memory
// (package connring): on Linux's own mechanisms.
var ringPipes = !platform.Portable

// Pipe returns the two ends of a new pipe. If duplex is true, both ends send
// and receive; otherwise the first end only receives and the second only
// sends (Python: Pipe(duplex=False) returns (reader, writer)).
//
// On Linux, messages travel through a ring in shared memory, one for each
// direction, so that a small message costs no system call while the
// reader is running; a message with handles, or larger than 256 KiB (a
// quarter of the ring), travels as a datagram of a Unix socket (a large one in a memfd whose
// descriptor travels instead), with a ticket in the ring that keeps its
// place. On the portable mechanisms every message is a frame of a Unix
// stream socket.
func Pipe(duplex bool) (*Conn, *Conn, error) {
	return PipeWith(PipeOptions{Duplex: duplex})
}

// PipeOptions configure a pipe made by PipeWith.
type PipeOptions struct {
	// Duplex: both ends send and receive (see Pipe).
	Duplex bool
	// RingSize is the size of each direction's ring in shared memory, on
	// Linux: a power of two from 4 KiB to 64 MiB; zero means 1 MiB. A
	// message of up to a quarter of it travels in the ring, and LendBytes
	// lends up to that much. Pages are used once touched: a pipe that
	// carries a stream of messages uses the whole of both rings. Ignored
	// on the portable mechanisms.
	RingSize int
}

// PipeWith is Pipe with options.
func PipeWith(o PipeOptions) (*Conn, *Conn, error) {
	duplex := o.Duplex
	if ringPipes {
		a, b, err := connring.Pair(o.RingSize)
		if err != nil {
			return nil, nil, err
		}
		return &Conn{r: a, readable: true, writable: duplex}, &Conn{r: b, readable: duplex, writable: true}, nil
	}
	a, b, err := transport.Pair()
	if err != nil {
		return nil, nil, err
	}
	return &Conn{t: a, readable: true, writable: duplex}, &Conn{t: b, readable: duplex, writable: true}, nil
}

// Send sends v, encoded with mp's codec; handles inside v travel as working
// handles. It blocks while the pipe is full, until ctx ends.
func (c *Conn) Send(ctx context.Context, v any) error {
	if !c.writable {
		return ErrReadOnly
	}
	data, fds, err := wire.Marshal(v)
	if err != nil {
		return fmt.Errorf("mp: encode: %w", err)
	}
	defer descr.Close(fds)
	return c.send(ctx, transport.Msg{Kind: msgValue, Data: data, FDs: fds})
}

// endpoint is what carries a Conn's messages: a pipe's rings
// (connring.End) or a socket (transport.Conn).
type endpoint interface {
	Send(ctx context.Context, m transport.Msg) error
	RecvInto(ctx context.Context, buf []byte) (transport.Msg, error)
	Poll(ctx context.Context) (bool, error)
	SetMaxSize(n int)
	Close() error
}

// ep returns the Conn's endpoint.
func (c *Conn) ep() endpoint {
	if c.r != nil {
		return c.r
	}
	return c.t
}

func (c *Conn) send(ctx context.Context, m transport.Msg) error { return c.ep().Send(ctx, m) }

// SendBytes sends b as one message, without encoding (Python:
// send_bytes; pass b[offset:offset+size] for its offset and size).
func (c *Conn) SendBytes(ctx context.Context, b []byte) error {
	if !c.writable {
		return ErrReadOnly
	}
	return c.send(ctx, transport.Msg{Kind: msgBytes, Data: b})
}

// Recv receives the next message into v, a non-nil pointer, blocking until
// one arrives or ctx ends. It returns io.EOF once every copy of the other end
// is closed and every message has been received. A message sent with
// SendBytes can be received into a *[]byte. If v's type has a struct with
// an unexported field, which would stay empty, Recv returns an error
// matching ErrUnencodable and leaves the message in the pipe.
func (c *Conn) Recv(ctx context.Context, v any) error {
	if err := wire.Check(reflect.TypeOf(v)); err != nil {
		return err
	}
	m, err := c.recv(ctx)
	if err != nil {
		return err
	}
	if m.Kind == msgBytes {
		m.Close()
		if bp, ok := v.(*[]byte); ok {
			*bp = m.Data
			return nil
		}
		return fmt.Errorf("%w: the message is raw bytes (sent with SendBytes); receive it with RecvBytes", ErrProtocol)
	}
	if m.Kind != msgValue {
		m.Close()
		return fmt.Errorf("%w: unknown message kind %d", ErrProtocol, m.Kind)
	}
	// The message's memory is this receive's alone: a []byte or [][]byte
	// value keeps its bytes there rather than in a copy.
	return wire.UnmarshalOwned(m.Data, m.FDs, v)
}

// RecvBytes receives the next message as bytes (Python: recv_bytes). A
// message sent with Send comes as its encoding. If maxLength is positive and
// the message is longer, the message is discarded and the error matches
// ErrTooLong.
func (c *Conn) RecvBytes(ctx context.Context, maxLength int) ([]byte, error) {
	m, err := c.recv(ctx)
	if err != nil {
		return nil, err
	}
	m.Close()
	if maxLength > 0 && len(m.Data) > maxLength {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, len(m.Data), maxLength)
	}
	return m.Data, nil
}

// RecvBytesInto receives the next message into buf and returns its length
// (Python: recv_bytes_into). If buf is too short, it returns a
// *BufferTooShortError holding the whole message: nothing is lost. Over a
// Unix socket, a message that fits is received straight into buf, with no
// memory made for it: the way to receive a stream of large messages at
// the speed of the copy.
func (c *Conn) RecvBytesInto(ctx context.Context, buf []byte) (int, error) {
	if !c.readable {
		return 0, ErrWriteOnly
	}
	m, err := c.ep().RecvInto(ctx, buf)
	if err != nil {
		return 0, err
	}
	m.Close()
	if len(m.Data) > len(buf) {
		return 0, &BufferTooShortError{Message: m.Data}
	}
	if len(m.Data) > 0 && &m.Data[0] == &buf[0] {
		return len(m.Data), nil
	}
	return copy(buf, m.Data), nil
}

func (c *Conn) recv(ctx context.Context) (transport.Msg, error) {
	if !c.readable {
		return transport.Msg{}, ErrWriteOnly
	}
	return c.ep().RecvInto(ctx, nil)
}

// Poll waits until a message can be received without blocking (or the
// other end is closed), and reports whether one can; it returns false when
// ctx ends first. With an already-ended ctx it answers at once (Python:
// poll(0)); Ready does the same. Over TCP (a Conn made by Listen and Dial
// on a TCP address), a message can be received once the whole of it has
// arrived, not at its first bytes: Poll takes what has arrived of it into
// the Conn, where the next receive finds it.
func (c *Conn) Poll(ctx context.Context) (bool, error) {
	if !c.readable {
		return false, ErrWriteOnly
	}
	return c.ep().Poll(ctx)
}

// Ready reports whether a message can be received without blocking.
func (c *Conn) Ready() bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ok, _ := c.Poll(ctx)
	return ok
}

// SetMaxMessageSize caps the size of the messages this end receives, from
// its next receive on: DefaultMaxMessageSize for a Pipe's end,
// DefaultNetMaxMessageSize for a Conn made by Listen or Dial, unless set;
// n zero or less restores that default. A larger message gives an error
// matching ErrTooLarge: over a Unix socket on Linux's mechanisms, the
// message is discarded and the next one can be received; over TCP, and
// over a Unix socket on the portable mechanisms (macOS, FreeBSD), which is
// a stream, the stream cannot find the message after it without reading
// the whole of it, so every receive after it fails the same way. The cap is this end's, in this process: it
// does not travel with the Conn. It is safe to call at any time.
func (c *Conn) SetMaxMessageSize(n int) {
	if n <= 0 && c.network {
		n = DefaultNetMaxMessageSize
	}
	c.ep().SetMaxSize(n)
}

// Fd returns the descriptor of this end (Python: fileno), or -1 once closed.
// It stays owned by the Conn. It is readable when a message waits or the
// other end is closed. For a Pipe's end on Linux, whose small messages
// travel in shared memory, senders keep that true for every message sent
// after the first call of Fd; a message that already waited then may not
// make it readable: check Ready first, as Wait does.
func (c *Conn) Fd() int {
	if c.r != nil {
		return c.r.Fd()
	}
	fd := -1
	c.t.Control(func(f int) { fd = f })
	return fd
}

// Close closes this end in this process. Blocked calls return ErrClosed.
// Closing twice returns ErrClosed. A loan (LendBytes) or a borrowed message
// (BorrowBytes) of this end still out holds Close until it ends: its
// memory stays mapped until then.
func (c *Conn) Close() error { return c.ep().Close() }

// MarshalCBOR is plumbing: part of how a Conn travels to another
// process (see Handles in the package doc); not for direct use.
func (c *Conn) MarshalCBOR() ([]byte, error) {
	if c.r != nil {
		var data []byte
		var merr error
		err := c.r.Control(func(fds [2]int) {
			data, merr = wire.MarshalHandle(connTag, fds[:], connMeta{c.readable, c.writable, true, c.r.Side()})
		})
		if err != nil {
			return nil, fmt.Errorf("mp: send a closed Conn: %w", err)
		}
		return data, merr
	}
	if c.t.Stream() {
		return nil, fmt.Errorf("%w: a Conn over TCP cannot travel to another process", ErrHandles)
	}
	var data []byte
	var merr error
	err := c.t.Control(func(fd int) {
		data, merr = wire.MarshalHandle(connTag, []int{fd}, connMeta{Readable: c.readable, Writable: c.writable})
	})
	if err != nil {
		return nil, fmt.Errorf("mp: send a closed Conn: %w", err)
	}
	return data, merr
}

// UnmarshalCBOR is plumbing: part of how a Conn travels to another
// process (see Handles in the package doc); not for direct use.
func (c *Conn) UnmarshalCBOR(data []byte) error {
	var meta connMeta
	fds, err := wire.UnmarshalHandle(data, connTag, &meta)
	if err != nil {
		return err
	}
	if meta.Ring {
		if len(fds) != 2 {
			descr.Close(fds)
			return fmt.Errorf("%w: a pipe's Conn handle with %d descriptors, want 2", ErrProtocol, len(fds))
		}
		r, err := connring.Attach([2]int(fds), meta.Side)
		if err != nil {
			return err
		}
		*c = Conn{r: r, readable: meta.Readable, writable: meta.Writable}
		return nil
	}
	if len(fds) != 1 {
		descr.Close(fds)
		return errors.New("mp: a Conn handle needs exactly one descriptor")
	}
	t, err := transport.NewConn(fds[0])
	if err != nil {
		return err
	}
	*c = Conn{t: t, readable: meta.Readable, writable: meta.Writable}
	return nil
}

func init() {
	background.SetFDsOf(func(obj any) []int {
		if c, ok := obj.(*Conn); ok {
			return c.fds()
		}
		return nil
	})
}

// fds returns the Conn's descriptors (none once closed).
func (c *Conn) fds() []int {
	var out []int
	if c.r != nil {
		c.r.Control(func(fds [2]int) { out = fds[:] })
		return out
	}
	c.t.Control(func(fd int) { out = []int{fd} })
	return out
}

// waitFD lets Wait poll the Conn.
func (c *Conn) waitFD() int {
	if !c.readable {
		return -1
	}
	return c.Fd()
}
