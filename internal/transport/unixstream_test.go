package transport_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/transport"
	"github.com/mpgo/mp/mptest"
	"golang.org/x/sys/unix"
)

// unixStreams returns two Conns over a Unix stream pair, and the raw
// descriptor numbers of their sockets.
func unixStreams(t *testing.T) (*transport.Conn, *transport.Conn) {
	t.Helper()
	fds, err := descr.StreamPair()
	if err != nil {
		t.Fatal(err)
	}
	a, err := transport.NewUnixStream(fds[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := transport.NewUnixStream(fds[1])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// inode returns the inode of fd, which tells which file a received
// descriptor is.
func inode(t *testing.T, fd int) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return uint64(st.Ino)
}

// Each message's descriptors arrive with it and no other, in order, among
// messages without any, small and large (a payload in a memfd), however
// the kernel splits the bytes.
func TestUnixStreamDescriptorsWithTheirMessage(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := unixStreams(t)
	if a.Stream() || !a.Framed() {
		t.Fatalf("Stream() = %v, Framed() = %v; want false, true", a.Stream(), a.Framed())
	}
	var pipes [4][2]int
	for i := range pipes {
		if err := pipeCloexec(&pipes[i]); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(pipes[i][0])
		defer unix.Close(pipes[i][1])
	}
	msgs := []transport.Msg{
		{Kind: 0, Data: []byte("none")},
		{Kind: 1, Data: []byte("one"), FDs: []int{pipes[0][1]}},
		{Kind: 2},
		{Kind: 3, Data: bytes.Repeat([]byte("b"), 1<<20), FDs: []int{pipes[1][1], pipes[2][1]}},
		{Kind: 4, Data: bytes.Repeat([]byte("c"), 60<<10)},
		{Kind: 5, FDs: []int{pipes[3][1]}},
		{Kind: 6, Data: bytes.Repeat([]byte("d"), 3<<20)},
	}
	ctx := context.Background()
	go func() {
		for _, m := range msgs {
			if a.Send(ctx, m) != nil {
				return
			}
		}
	}()
	for _, want := range msgs {
		m, err := b.Recv(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", want.Kind, err)
		}
		if m.Kind != want.Kind || !bytes.Equal(m.Data, want.Data) || len(m.FDs) != len(want.FDs) {
			t.Fatalf("message %d: kind %d, %d bytes, %d descriptors; want %d bytes, %d descriptors", want.Kind, m.Kind, len(m.Data), len(m.FDs), len(want.Data), len(want.FDs))
		}
		for i, fd := range m.FDs {
			if inode(t, fd) != inode(t, want.FDs[i]) {
				t.Errorf("message %d: descriptor %d is another file", want.Kind, i)
			}
			if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
				t.Errorf("message %d: received descriptor not close-on-exec", want.Kind)
			}
		}
		m.Close()
	}
}

// The end of the stream comes once every copy of the other end is closed,
// after everything sent.
func TestUnixStreamEOFWithSeveralHolders(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := unixStreams(t)
	var dup int
	a.Control(func(fd int) { dup, _ = unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) })
	a2, err := transport.NewUnixStream(dup)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a.Send(ctx, transport.Msg{Data: []byte("from a")})
	a.Close()
	if m, err := b.Recv(ctx); err != nil || string(m.Data) != "from a" {
		t.Fatalf("Recv = %q, %v", m.Data, err)
	}
	if ready, err := b.Poll(endedContext()); ready || err != nil {
		t.Fatalf("Poll with a holder of the other end left = %v, %v; want false, nil", ready, err)
	}
	a2.Send(ctx, transport.Msg{Data: []byte("from a2")})
	a2.Close()
	if m, err := b.Recv(ctx); err != nil || string(m.Data) != "from a2" {
		t.Fatalf("Recv = %q, %v", m.Data, err)
	}
	if _, err := b.Recv(ctx); err != io.EOF {
		t.Fatalf("Recv after the last holder closed = %v, want io.EOF", err)
	}
}

// A send that its context ends while the socket is full either sends
// nothing (and the Conn goes on), or is cut inside its frame: then the
// sending side is broken, and the receiver gets every message whole up to
// the cut, then io.ErrUnexpectedEOF, never a torn message.
func TestUnixStreamFrameCutByContext(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := unixStreams(t)
	// A small send buffer, so that a 60 KiB frame goes out in parts, the
	// first before the buffer fills.
	a.Control(func(fd int) { unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096) })
	b.Control(func(fd int) { unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4096) })
	frameData := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 60<<10) }
	sent, cut := 0, false
	for i := 0; !cut && i < 10000; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		err := a.Send(ctx, transport.Msg{Data: frameData(i)})
		cancel()
		switch {
		case err == nil:
			sent++
		case bytes.Contains([]byte(err.Error()), []byte("cut off")):
			cut = true
		case errors.Is(err, context.DeadlineExceeded):
			// Nothing went out: the Conn is still usable.
		default:
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if !cut {
		t.Fatal("no send was cut inside its frame with a 4 KiB send buffer")
	}
	if err := a.Send(context.Background(), transport.Msg{Data: []byte("x")}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("cut off")) {
		t.Fatalf("Send after a cut = %v, want the cut reported", err)
	}
	for i := range sent {
		m, err := b.Recv(context.Background())
		if err != nil || len(m.Data) != 60<<10 || m.Data[0] != m.Data[len(m.Data)-1] {
			t.Fatalf("message %d of %d before the cut: %d bytes, %v", i, sent, len(m.Data), err)
		}
	}
	if _, err := b.Recv(context.Background()); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Recv of the cut frame = %v, want io.ErrUnexpectedEOF", err)
	}
}

// Frames a peer writes by hand: descriptors its header does not announce,
// or announced and missing, or a malformed large-message frame, are
// refused with their descriptors closed, and the stream goes on.
func TestUnixStreamRefusesBadFrames(t *testing.T) {
	mptest.CheckLeaks(t)
	fds, err := descr.StreamPair()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	c, err := transport.NewUnixStream(fds[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var p [2]int
	if err := pipeCloexec(&p); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	hdr := func(size int, flags byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, uint32(size)), 7, flags)
	}
	write := func(b []byte, rights ...int) {
		var oob []byte
		if len(rights) > 0 {
			oob = unix.UnixRights(rights...)
		}
		if err := unix.Sendmsg(fds[1], b, oob, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	for _, bad := range []struct {
		name   string
		frame  []byte
		rights []int
	}{
		{"unannounced descriptor", append(hdr(2, 0), "hi"...), []int{p[1]}},
		{"announced, none", append(hdr(2, 1), "hi"...), nil},
		{"large frame without a memfd", append(hdr(8, 3), make([]byte, 8)...), nil},
		{"large frame of the wrong length", append(hdr(2, 3), "hi"...), []int{p[1]}},
		{"large frame in a pipe", append(hdr(8, 3), binary.BigEndian.AppendUint64(nil, 5)...), []int{p[0]}},
		{"unknown flag", append(hdr(2, 4), "hi"...), nil},
	} {
		write(bad.frame, bad.rights...)
		write(append(hdr(2, 0), "ok"...))
		if _, err := c.Recv(ctx); !errors.Is(err, errs.ErrProtocol) {
			t.Fatalf("%s: Recv = %v, want ErrProtocol", bad.name, err)
		}
		if bad.name == "unknown flag" {
			break // the stream cannot go on past a header it does not know
		}
		if m, err := c.Recv(ctx); err != nil || string(m.Data) != "ok" {
			t.Fatalf("%s: the frame after it = %q, %v", bad.name, m.Data, err)
		}
	}
}

// FuzzUnixStream writes arbitrary bytes, with a descriptor on the first
// write, to a Unix stream Conn: it must never panic, hold more than it was
// sent, or leak the descriptor.
func FuzzUnixStream(f *testing.F) {
	f.Add(append(frame(1, []byte("hi")), 0))
	f.Add([]byte{0, 0, 0, 2, 1, 1, 'h', 'i'})
	f.Add([]byte{0, 0, 0, 8, 1, 3, 0, 0, 0, 0, 0, 0, 0, 9})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		fds, err := descr.StreamPair()
		if err != nil {
			t.Fatal(err)
		}
		c, err := transport.NewUnixStream(fds[0])
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetMaxSize(1 << 16)
		var p [2]int
		if err := pipeCloexec(&p); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(p[0])
		go func() {
			defer unix.Close(fds[1])
			defer unix.Close(p[1])
			if len(data) == 0 {
				return
			}
			n, err := unix.SendmsgN(fds[1], data, unix.UnixRights(p[1]), nil, 0)
			for rest := data[n:]; err == nil && len(rest) > 0; rest = rest[n:] {
				n, err = unix.Write(fds[1], rest)
			}
		}()
		for {
			m, err := c.Recv(context.Background())
			if err != nil {
				break
			}
			if len(m.Data) > len(data) {
				t.Fatalf("a %d-byte message from %d bytes", len(m.Data), len(data))
			}
			m.Close()
		}
		c.Close()
		// Every copy of the pipe's write end is closed: the sender's, and
		// any the Conn received.
		var b [1]byte
		if n, err := unix.Read(p[0], b[:]); n != 0 || err != nil {
			t.Fatalf("pipe read = %d, %v; want EOF (a descriptor leaked)", n, err)
		}
	})
}

// The other end of a Conn in another process: descriptors travel both
// ways with their messages, and the end of the stream comes when the
// child exits.
func TestUnixStreamAcrossProcesses(t *testing.T) {
	if os.Getenv("MP_UNIXSTREAM_CHILD") == "1" {
		os.Exit(unixStreamChild())
	}
	mptest.CheckLeaks(t)
	fds, err := descr.StreamPair()
	if err != nil {
		t.Fatal(err)
	}
	childEnd := os.NewFile(uintptr(fds[1]), "child-end")
	c, err := transport.NewUnixStream(fds[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestUnixStreamAcrossProcesses$")
	cmd.Env = append(os.Environ(), "MP_UNIXSTREAM_CHILD=1")
	cmd.ExtraFiles = []*os.File{childEnd}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	childEnd.Close()
	defer cmd.Wait()
	var p [2]int
	if err := pipeCloexec(&p); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, size := range []int{10, 2 << 20} {
		err := c.Send(ctx, transport.Msg{Kind: byte(i), Data: bytes.Repeat([]byte{'q'}, size), FDs: []int{p[1]}})
		if err != nil {
			t.Fatal(err)
		}
	}
	unix.Close(p[1])
	// The child writes into each pipe it got, and sends back a pipe of its
	// own with the count of bytes it got.
	for i, size := range []int{10, 2 << 20} {
		m, err := c.Recv(ctx)
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if string(m.Data) != strconv.Itoa(size) || len(m.FDs) != 1 {
			t.Fatalf("reply %d: %q with %d descriptors", i, m.Data, len(m.FDs))
		}
		var b [8]byte
		n, _ := unix.Read(m.FDs[0], b[:])
		if string(b[:n]) != fmt.Sprint("r", i) {
			t.Errorf("reply %d's pipe holds %q", i, b[:n])
		}
		m.Close()
	}
	var b [8]byte
	if n, _ := unix.Read(p[0], b[:]); string(b[:n]) != "w0w1" {
		t.Errorf("the child wrote %q into the pipe sent to it, want w0w1", b[:n])
	}
	if _, err := c.Recv(ctx); err != io.EOF {
		t.Fatalf("Recv after the child exits = %v, want io.EOF", err)
	}
}

func unixStreamChild() int {
	c, err := transport.NewUnixStream(3)
	if err != nil {
		return 2
	}
	ctx := context.Background()
	for i := range 2 {
		m, err := c.Recv(ctx)
		if err != nil || len(m.FDs) != 1 || m.Kind != byte(i) {
			return 3
		}
		unix.Write(m.FDs[0], []byte(fmt.Sprint("w", i)))
		m.Close()
		var p [2]int
		if pipeCloexec(&p) != nil {
			return 4
		}
		unix.Write(p[1], []byte(fmt.Sprint("r", i)))
		unix.Close(p[1])
		if c.Send(ctx, transport.Msg{Data: []byte(strconv.Itoa(len(m.Data))), FDs: []int{p[0]}}) != nil {
			return 5
		}
		unix.Close(p[0])
	}
	return 0
}

// A frame over the receiver's cap ends the stream for receiving (it cannot
// be skipped), and the descriptors that came with it are closed, not kept
// until the Conn closes: the pipe whose write end it carried reads EOF.
func TestUnixStreamOverCapClosesItsDescriptors(t *testing.T) {
	a, b := unixStreams(t)
	b.SetMaxSize(100)
	var p [2]int
	if err := pipeCloexec(&p); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	// Non-blocking: a copy of the write end kept open reads EAGAIN.
	if err := unix.SetNonblock(p[0], true); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err := a.Send(ctx, transport.Msg{Kind: 1, Data: make([]byte, 200), FDs: []int{p[1]}})
	unix.Close(p[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("ok")}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := b.Recv(ctx); !errors.Is(err, errs.ErrTooLarge) {
			t.Fatalf("Recv() = %v, want ErrTooLarge", err)
		}
	}
	var buf [1]byte
	if n, err := unix.Read(p[0], buf[:]); n != 0 || err != nil {
		t.Fatalf("read of the pipe = %d, %v: want end of file, as no copy of its write end is left", n, err)
	}
}
