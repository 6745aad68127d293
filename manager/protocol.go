package manager

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/auth"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
	"golang.org/x/sys/unix"
)

// After the handshake, client and server exchange frames (wire's format: a
// 4-byte big-endian length, then that many bytes), each holding one CBOR
// request or reply. Requests carry an id chosen by the client; replies carry
// the id of the request they answer, in any order, so one connection carries
// many calls at once.

// magic names the manager's protocol and its version in the handshake
// (package auth).
const magic = "mpmgr\x00\x00\x02"

// HandshakeTimeout bounds a client's handshake (Dial) unless its context
// gives a shorter bound. The server gives a client 5 s, or
// Limits.IOTimeout if that is shorter.
const HandshakeTimeout = auth.Timeout

// DefaultFrameCap is the largest request or reply a side accepts unless told
// otherwise: 16 MiB.
const DefaultFrameCap = 16 << 20

// request is one call of a method of an object. Object 0 is the server
// itself (create, lookup, incref, decref, cancel, shutdown).
type request struct {
	_      struct{} `cbor:",toarray"`
	ID     uint64
	Obj    uint64
	Method string
	Args   []cbor.RawMessage
	// Timeout bounds a blocking call: 0 for none, a positive number of
	// nanoseconds, or -1 for a call that must not block at all. It is
	// relative, so that clocks of different machines need not agree.
	Timeout int64
	// Owner identifies the proxy that calls, for reentrant locks.
	Owner uint64
}

// reply answers the request with the same ID.
type reply struct {
	_     struct{} `cbor:",toarray"`
	ID    uint64
	Value cbor.RawMessage
	Err   *errorBody
}

// errorBody is an error that crossed the wire.
type errorBody struct {
	_         struct{} `cbor:",toarray"`
	Message   string
	Type      string
	Sentinels []string
}

// Methods of object 0, the server.
const (
	opCreate   = "create"
	opLookup   = "lookup"
	opIncref   = "incref"
	opDecref   = "decref"
	opCancel   = "cancel"
	opShutdown = "shutdown"
	opPing     = "ping"
)

// decodeRequest decodes one frame from a client.
func decodeRequest(frame []byte) (*request, error) {
	req := new(request)
	if err := wire.Unmarshal(frame, nil, req); err != nil {
		return nil, err
	}
	return req, nil
}

// decodeReply decodes one frame from the server.
func decodeReply(frame []byte) (*reply, error) {
	rep := new(reply)
	if err := wire.Unmarshal(frame, nil, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// encode encodes v for the wire. Values that hold descriptors (mp.Conn,
// mp queues) cannot travel to a manager: they refer to this machine only.
func encode(v any) (cbor.RawMessage, error) {
	data, fds, err := wire.Marshal(v)
	if len(fds) > 0 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("manager: %T holds descriptors (a pipe, queue or lock of mp): it cannot be sent to a manager", v)
	}
	if err != nil {
		return nil, fmt.Errorf("manager: encode %T: %w", v, err)
	}
	return data, nil
}

// decode decodes a value sent by the other side into v.
func decode(data []byte, v any) error {
	if v == nil {
		return nil
	}
	if err := wire.Unmarshal(data, nil, v); err != nil {
		return fmt.Errorf("manager: decode %T: %w", v, err)
	}
	return nil
}

// frameReader reads frames from a connection. Waiting for a frame to start
// has no deadline (a client may be idle for hours), but once its length has
// arrived the rest must follow within bodyTimeout, so that a peer that
// sends slowly cannot hold a connection half-read forever.
type frameReader struct {
	nc          net.Conn
	r           *bufio.Reader
	cap         int
	bodyTimeout time.Duration
	hdr         [4]byte
}

func (fr *frameReader) read() ([]byte, error) {
	if _, err := io.ReadFull(fr.r, fr.hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(fr.hdr[:])
	if uint64(n) > uint64(fr.cap) {
		return nil, fmt.Errorf("%w: frame of %d bytes, cap %d", errs.ErrTooLarge, n, fr.cap)
	}
	if fr.bodyTimeout > 0 && fr.r.Buffered() < int(n) {
		fr.nc.SetReadDeadline(time.Now().Add(fr.bodyTimeout))
		defer fr.nc.SetReadDeadline(time.Time{})
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(fr.r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// frameWriter writes frames through one reusable buffer, so that a small
// frame costs one write and no allocation. Its owner serializes the calls.
type frameWriter struct {
	w   io.Writer
	buf []byte
}

func (fw *frameWriter) write(p []byte) error {
	if len(p) > 64<<10 {
		return wire.WriteFrame(fw.w, p) // large: two writes, no copy
	}
	fw.buf = binary.BigEndian.AppendUint32(fw.buf[:0], uint32(len(p)))
	fw.buf = append(fw.buf, p...)
	_, err := fw.w.Write(fw.buf)
	return err
}

// errorToBody describes err for the other side.
func errorToBody(err error) *errorBody {
	return &errorBody{Message: err.Error(), Type: fmt.Sprintf("%T", err), Sentinels: errs.Matched(err)}
}

// bodyToError turns an error from the server into a *mp.RemoteError that
// matches the same sentinels.
func bodyToError(b *errorBody, what string, pid int) error {
	return &mp.RemoteError{Func: what, Pid: pid, Message: b.Message, Type: b.Type, Sentinels: b.Sentinels}
}
