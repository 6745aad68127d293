package transport_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/transport"
	"github.com/mpgo/mp/mptest"
	"golang.org/x/sys/unix"
)

// streamPair returns a stream Conn and the raw descriptor of the other end
// of a stream socket pair, for tests that write frames by hand.
func streamPair(t *testing.T) (*transport.Conn, int) {
	t.Helper()
	fds, err := descr.StreamPair()
	if err != nil {
		t.Fatal(err)
	}
	c, err := transport.NewStream(fds[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); unix.Close(fds[1]) })
	return c, fds[1]
}

// streams returns two stream Conns connected to each other.
func streams(t *testing.T) (*transport.Conn, *transport.Conn) {
	t.Helper()
	a, fd := streamPair(t)
	dup, err := unix.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	b, err := transport.NewStream(dup)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return a, b
}

func frame(kind byte, data []byte) []byte {
	f := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	return append(append(f, kind, 0), data...)
}

func TestStreamSendRecvSizes(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := streams(t)
	if !a.Stream() {
		t.Fatal("Stream() = false for a stream Conn")
	}
	ctx := context.Background()
	for _, size := range []int{0, 1, 64 << 10, 64<<10 + 1, 3 << 20} {
		data := bytes.Repeat([]byte{byte(size)}, size)
		errc := make(chan error, 1)
		go func() { errc <- a.Send(ctx, transport.Msg{Kind: 9, Data: data}) }()
		m, err := b.Recv(ctx)
		if err != nil {
			t.Fatalf("size %d: Recv: %v", size, err)
		}
		if err := <-errc; err != nil {
			t.Fatalf("size %d: Send: %v", size, err)
		}
		if m.Kind != 9 || !bytes.Equal(m.Data, data) {
			t.Fatalf("size %d: got kind %d, %d bytes", size, m.Kind, len(m.Data))
		}
	}
	a.Close()
	if _, err := b.Recv(ctx); err != io.EOF {
		t.Errorf("Recv after the peer closed = %v, want io.EOF", err)
	}
}

// TestStreamResumesFrame: a receive whose context ends in the middle of a
// frame leaves the stream in place; the next receive returns that frame
// whole, then the next.
func TestStreamResumesFrame(t *testing.T) {
	mptest.CheckLeaks(t)
	c, fd := streamPair(t)
	f := append(frame(3, []byte("hello")), frame(4, []byte("next"))...)
	unix.Write(fd, f[:3]) // inside the header
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Recv(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Recv with an ended context = %v, want context.Canceled", err)
	}
	unix.Write(fd, f[3:8]) // inside the body
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := c.Recv(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("second Recv with an ended context = %v, want context.Canceled", err)
	}
	unix.Write(fd, f[8:])
	for _, want := range []string{"hello", "next"} {
		m, err := c.Recv(context.Background())
		if err != nil || string(m.Data) != want {
			t.Fatalf("Recv = %q, %v; want %q", m.Data, err, want)
		}
	}
}

// TestStreamRefuses: descriptors, unknown flags, frames over the cap, and
// an end inside a frame give errors, never a wrong message.
func TestStreamRefuses(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	c, fd := streamPair(t)
	if err := c.Send(ctx, transport.Msg{Kind: 1, FDs: []int{fd}}); !errors.Is(err, errs.ErrHandles) {
		t.Errorf("Send with a descriptor = %v, want ErrHandles", err)
	}
	c.SetMaxSize(10)
	unix.Write(fd, frame(1, make([]byte, 11)))
	if _, err := c.Recv(ctx); !errors.Is(err, errs.ErrTooLarge) {
		t.Errorf("Recv of a frame over the cap = %v, want ErrTooLarge", err)
	}

	c, fd = streamPair(t)
	bad := frame(1, []byte("x"))
	bad[5] = 7
	unix.Write(fd, bad)
	if _, err := c.Recv(ctx); !errors.Is(err, errs.ErrProtocol) {
		t.Errorf("Recv of a frame with unknown flags = %v, want ErrProtocol", err)
	}

	c, fd = streamPair(t)
	unix.Write(fd, frame(1, []byte("hello"))[:8])
	unix.Shutdown(fd, unix.SHUT_WR)
	if _, err := c.Recv(ctx); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Recv of a cut frame = %v, want io.ErrUnexpectedEOF", err)
	}
}

// FuzzStream feeds a stream Conn arbitrary bytes, then the end of the
// stream: every Poll ends ready, every receive returns a message or an
// error, never a panic or a hang, and the messages returned are exactly
// the frames the bytes held.
func FuzzStream(f *testing.F) {
	f.Add(frame(1, []byte("hi")))
	f.Add(append(frame(1, nil), frame(2, []byte("x"))...))
	f.Add([]byte{0, 0, 0, 9, 1, 0, 'a'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 0})
	f.Add([]byte{0, 0, 0, 0, 1, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		fds, err := descr.StreamPair()
		if err != nil {
			t.Fatal(err)
		}
		c, err := transport.NewStream(fds[0])
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetMaxSize(1 << 16)
		go func() {
			defer unix.Close(fds[1])
			for rest := data; len(rest) > 0; {
				n, err := unix.Write(fds[1], rest)
				if err != nil {
					return
				}
				rest = rest[n:]
			}
		}()
		consumed := 0
		for {
			if ready, err := c.Poll(context.Background()); !ready || err != nil {
				t.Fatalf("Poll = %v, %v; want ready", ready, err)
			}
			m, err := c.Recv(context.Background())
			if err != nil {
				if err == io.EOF && consumed != len(data) {
					t.Fatalf("EOF after %d of %d bytes", consumed, len(data))
				}
				return
			}
			consumed += 6 + len(m.Data)
			if consumed > len(data) {
				t.Fatalf("received %d bytes of frames from %d bytes", consumed, len(data))
			}
		}
	})
}

// TestStreamGrowsAsDataArrives: a peer that declares a huge frame and sends
// a few bytes of it costs the receiver memory for those bytes, not for the
// size it declared; the receive ends with io.ErrUnexpectedEOF when the peer
// closes.
func TestStreamGrowsAsDataArrives(t *testing.T) {
	mptest.CheckLeaks(t)
	c, fd := streamPair(t)
	hdr := binary.BigEndian.AppendUint32(nil, 1<<30)
	unix.Write(fd, append(append(hdr, 1, 0), "ten bytes!"...))
	unix.Shutdown(fd, unix.SHUT_WR)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := c.Recv(context.Background())
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Recv of a frame cut after 10 of 1 GiB = %v, want io.ErrUnexpectedEOF", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
		t.Errorf("Recv allocated %d bytes for the 10 bytes of a frame that declared 1 GiB", got)
	}
}

// endedContext returns a context that has already ended, for a Poll that
// only looks.
func endedContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestStreamPollWholeFrame: a stream Conn is ready only once a whole frame
// has arrived, or the stream has ended, so that a receive after a
// successful Poll never blocks; a frame larger than the socket's buffer
// still makes Poll ready.
func TestStreamPollWholeFrame(t *testing.T) {
	mptest.CheckLeaks(t)
	c, fd := streamPair(t)
	f := append(frame(3, []byte("hello")), frame(4, []byte("next"))...)
	for _, part := range [][2]int{{0, 3}, {3, 8}} { // inside the header, inside the body
		unix.Write(fd, f[part[0]:part[1]])
		if ready, err := c.Poll(endedContext()); ready || err != nil {
			t.Fatalf("Poll with %d of the 11 bytes of a frame = %v, %v; want false", part[1], ready, err)
		}
	}
	unix.Write(fd, f[8:])
	for _, want := range []string{"hello", "next"} {
		if ready, err := c.Poll(endedContext()); !ready || err != nil {
			t.Fatalf("Poll with the frame %q whole = %v, %v; want true", want, ready, err)
		}
		if m, err := c.Recv(endedContext()); err != nil || string(m.Data) != want {
			t.Fatalf("Recv after Poll = %q, %v; want %q", m.Data, err, want)
		}
	}

	// A frame many times the size of the socket's buffer.
	c.Control(func(fd int) { unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4096) })
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
	big := frame(5, bytes.Repeat([]byte("x"), 4<<20))
	wrote := make(chan error, 1)
	go func() {
		for rest := big; len(rest) > 0; {
			n, err := unix.Write(fd, rest)
			if err != nil {
				wrote <- err
				return
			}
			rest = rest[n:]
		}
		wrote <- nil
	}()
	if ready, err := c.Poll(context.Background()); !ready || err != nil {
		t.Fatalf("Poll for a frame larger than the socket's buffer = %v, %v", ready, err)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if m, err := c.Recv(endedContext()); err != nil || len(m.Data) != 4<<20 {
		t.Fatalf("Recv of the large frame = %d bytes, %v", len(m.Data), err)
	}

	// The end of the stream inside a frame: ready, and the receive fails.
	unix.Write(fd, frame(6, []byte("cut"))[:7])
	unix.Shutdown(fd, unix.SHUT_WR)
	if ready, err := c.Poll(endedContext()); !ready || err != nil {
		t.Fatalf("Poll at the end of the stream = %v, %v", ready, err)
	}
	if _, err := c.Recv(endedContext()); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Recv of the cut frame = %v, want io.ErrUnexpectedEOF", err)
	}
}
