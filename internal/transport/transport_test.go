package transport_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/platform"
	"github.com/mpgo/mp/internal/stacks"
	"github.com/mpgo/mp/internal/transport"
	"github.com/mpgo/mp/mptest"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { mptest.Main(m) }

func pair(t *testing.T) (*transport.Conn, *transport.Conn) {
	t.Helper()
	a, b, err := transport.Pair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestSendRecvSizes(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := pair(t)
	ctx := context.Background()
	for _, size := range []int{0, 1, 64, 64 << 10, 64<<10 + 1, 3 << 20, 9 << 20} {
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
		if m.Kind != 9 || !bytes.Equal(m.Data, data) || len(m.FDs) != 0 {
			t.Fatalf("size %d: got kind %d, %d bytes, %d fds", size, m.Kind, len(m.Data), len(m.FDs))
		}
	}
}

func TestDescriptorsTravel(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := pair(t)
	var p [2]int
	if err := pipeCloexec(&p); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	ctx := context.Background()
	if err := a.Send(ctx, transport.Msg{Data: []byte("w"), FDs: []int{p[1]}}); err != nil {
		t.Fatal(err)
	}
	unix.Close(p[1])
	m, err := b.Recv(ctx)
	if err != nil || len(m.FDs) != 1 {
		t.Fatalf("Recv = %v fds, %v", m.FDs, err)
	}
	unix.Write(m.FDs[0], []byte("hi"))
	m.Close()
	buf := make([]byte, 8)
	n, _ := unix.Read(p[0], buf)
	if string(buf[:n]) != "hi" {
		t.Errorf("read %q through the passed descriptor, want hi", buf[:n])
	}
}

func TestEOFAfterPeerClose(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := pair(t)
	ctx := context.Background()
	a.Send(ctx, transport.Msg{Data: []byte("last")})
	a.Close()
	if m, err := b.Recv(ctx); err != nil || string(m.Data) != "last" {
		t.Fatalf("Recv = %q, %v; want the message sent before close", m.Data, err)
	}
	if _, err := b.Recv(ctx); err != io.EOF {
		t.Fatalf("Recv after peer close = %v, want io.EOF", err)
	}
	if err := b.Send(ctx, transport.Msg{Data: []byte("x")}); !errors.Is(err, unix.EPIPE) {
		t.Errorf("Send to a closed peer = %v, want EPIPE", err)
	}
}

// A peer that closes with messages of ours unread makes Linux report
// ECONNRESET once, ahead of the messages it sent before closing: they must
// still be received, and only then EOF.
func TestMessagesBeforeResetAreKept(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := pair(t)
	ctx := context.Background()
	if err := b.Send(ctx, transport.Msg{Data: []byte("never read")}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"one", "two"} {
		if err := a.Send(ctx, transport.Msg{Data: []byte(s)}); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	for _, want := range []string{"one", "two"} {
		if m, err := b.Recv(ctx); err != nil || string(m.Data) != want {
			t.Fatalf("Recv = %q, %v; want %q", m.Data, err, want)
		}
	}
	if _, err := b.Recv(ctx); err != io.EOF {
		t.Fatalf("Recv after the messages = %v, want io.EOF", err)
	}
}

func TestRecvContext(t *testing.T) {
	mptest.CheckLeaks(t)
	_, b := pair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := b.Recv(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Recv took %v after a 50ms deadline", d)
	}
	ctx, cancel = context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := b.Recv(ctx); errc <- err }()
	waitRecvAsleep(t)
	cancel()
	if err := recvResult(t, errc); !errors.Is(err, context.Canceled) {
		t.Fatalf("Recv = %v, want Canceled", err)
	}
	// The deadline is disarmed: a later receive still works.
	a2, b2 := pair(t)
	a2.Send(context.Background(), transport.Msg{Data: []byte("ok")})
	if m, err := b2.Recv(context.Background()); err != nil || string(m.Data) != "ok" {
		t.Fatalf("Recv after cancel = %q, %v", m.Data, err)
	}
}

func TestCloseUnblocksRecv(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := pair(t)
	_ = a
	errc := make(chan error, 1)
	go func() { _, err := b.Recv(context.Background()); errc <- err }()
	waitRecvAsleep(t)
	b.Close()
	if err := recvResult(t, errc); !errors.Is(err, errs.ErrClosed) {
		t.Fatalf("Recv after Close = %v, want ErrClosed", err)
	}
}

// waitRecvAsleep waits until a Recv sleeps in Go's poller (a goroutine in
// state "IO wait" inside recvmsg, or recvStream on a stream), and fails the test if none does within
// 20 s.
func waitRecvAsleep(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !recvAsleep(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no Recv sleeps in the poller after 20 s")
		}
	}
}

func recvAsleep() bool {
	return stacks.Count("IO wait", "transport.(*Conn).recvmsg")+stacks.Count("IO wait", "transport.(*Conn).recvStream") > 0
}

// recvResult returns what a Recv sent on errc, and fails the test if it
// sends nothing within 10 s.
func recvResult(t *testing.T, errc chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the Recv is still blocked after 10 s")
		return nil
	}
}

func TestPoll(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := pair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if ok, err := b.Poll(ctx); ok || err != nil {
		t.Fatalf("Poll on empty = %v, %v; want false, nil", ok, err)
	}
	a.Send(context.Background(), transport.Msg{Data: []byte("x")})
	if ok, err := b.Poll(context.Background()); !ok || err != nil {
		t.Fatalf("Poll with a message = %v, %v", ok, err)
	}
	if m, err := b.Recv(context.Background()); err != nil || string(m.Data) != "x" {
		t.Fatalf("Poll consumed the message: %q, %v", m.Data, err)
	}
}

func TestConcurrentSendersKeepMessagesWhole(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := pair(t)
	const senders, each = 8, 200
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				a.Send(context.Background(), transport.Msg{Data: bytes.Repeat([]byte{byte(s)}, 100+s)})
			}
		}()
	}
	counts := map[byte]int{}
	for range senders * each {
		m, err := b.Recv(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Data) != 100+int(m.Data[0]) || !bytes.Equal(m.Data, bytes.Repeat(m.Data[:1], len(m.Data))) {
			t.Fatalf("torn message of %d bytes", len(m.Data))
		}
		counts[m.Data[0]]++
	}
	wg.Wait()
	for s := range senders {
		if counts[byte(s)] != each {
			t.Errorf("sender %d: %d messages, want %d", s, counts[byte(s)], each)
		}
	}
}

func TestOversizedMessageRejected(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := pair(t)
	b.SetMaxSize(1 << 20)
	go a.Send(context.Background(), transport.Msg{Data: make([]byte, 2<<20)})
	if _, err := b.Recv(context.Background()); !errors.Is(err, errs.ErrTooLarge) {
		t.Fatalf("Recv of an oversized message = %v, want ErrTooLarge", err)
	}
}

// Messages of mixed sizes, small and large, with and without descriptors,
// arrive whole and in order: a receive after a large message first asks
// the size of the next datagram, and one after a small message does not.
func TestMixedSizesInOrder(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := pair(t)
	ctx := context.Background()
	var p [2]int
	if err := pipeCloexec(&p); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	sizes := []int{64, 1 << 20, 1 << 20, 0, 64 << 10, 64<<10 + 1, 3, 2 << 20, 100, 5 << 20, 9 << 20, 1 << 20, 7}
	errc := make(chan error, 1)
	go func() {
		for i, size := range sizes {
			m := transport.Msg{Kind: byte(i), Data: bytes.Repeat([]byte{byte(i + 1)}, size)}
			if i%3 == 1 {
				m.FDs = []int{p[1]}
			}
			if err := a.Send(ctx, m); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i, size := range sizes {
		m, err := b.Recv(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		wantFDs := 0
		if i%3 == 1 {
			wantFDs = 1
		}
		if m.Kind != byte(i) || !bytes.Equal(m.Data, bytes.Repeat([]byte{byte(i + 1)}, size)) || len(m.FDs) != wantFDs {
			t.Fatalf("message %d: kind %d, %d bytes, %d fds; want kind %d, %d bytes, %d fds", i, m.Kind, len(m.Data), len(m.FDs), i, size, wantFDs)
		}
		m.Close()
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// Two receivers on one socket (as two processes holding one end would be)
// take large and small messages from under each other: each message still
// arrives whole, to exactly one of them.
func TestRivalReceiversKeepMessagesWhole(t *testing.T) {
	if platform.Portable {
		t.Skip("a Unix stream keeps messages whole between receivers in one process only (unixstream.go); two holders of one end are two processes here")
	}
	mptest.CheckLeaks(t)
	a, b := pair(t)
	var dup int
	b.Control(func(fd int) { dup, _ = unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) })
	b2, err := transport.NewConn(dup)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	ctx := context.Background()
	const n = 300
	size := func(i int) int {
		if i%2 == 0 {
			return 100 + i
		}
		return 200<<10 + i
	}
	go func() {
		for i := range n {
			m := bytes.Repeat([]byte{byte(i)}, size(i))
			binary.BigEndian.PutUint32(m, uint32(i))
			if err := a.Send(ctx, transport.Msg{Data: m}); err != nil {
				return
			}
		}
		a.Close()
	}()
	var mu sync.Mutex
	seen := map[int]bool{}
	var wg sync.WaitGroup
	for _, c := range []*transport.Conn{b, b2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := c.Recv(ctx)
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				i := int(binary.BigEndian.Uint32(m.Data))
				if len(m.Data) != size(i) || !bytes.Equal(m.Data[4:], bytes.Repeat([]byte{byte(i)}, size(i)-4)) {
					t.Errorf("message %d torn: %d bytes", i, len(m.Data))
				}
				mu.Lock()
				if seen[i] {
					t.Errorf("message %d received twice", i)
				}
				seen[i] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d messages received, want %d", len(seen), n)
	}
}

// RecvInto receives a message that fits straight into the caller's memory,
// and one that does not whole, in memory of its own; descriptors and the
// end of the stream come as with Recv.
func TestRecvInto(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := pair(t)
	ctx := context.Background()
	var p [2]int
	if err := pipeCloexec(&p); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	buf := make([]byte, 1<<20)
	sizes := []int{0, 5, 64 << 10, 1 << 20, 1<<20 + 1, 3 << 20, 100, 9 << 20, 1 << 20}
	go func() {
		for i, n := range sizes {
			m := transport.Msg{Kind: byte(i), Data: bytes.Repeat([]byte{byte(i + 1)}, n)}
			if i == 3 {
				m.FDs = []int{p[1]}
			}
			if a.Send(ctx, m) != nil {
				return
			}
		}
		a.Close()
	}()
	for i, n := range sizes {
		m, err := b.RecvInto(ctx, buf)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if m.Kind != byte(i) || !bytes.Equal(m.Data, bytes.Repeat([]byte{byte(i + 1)}, n)) {
			t.Fatalf("message %d: kind %d, %d bytes; want kind %d, %d bytes of %d", i, m.Kind, len(m.Data), i, n, i+1)
		}
		// A payload that fits comes into the caller's memory, also one
		// sent in a memfd (above the socket's limit on SOCK_SEQPACKET,
		// above 64 KiB on a Unix stream).
		if inBuf := n > 0 && &m.Data[0] == &buf[0]; inBuf != (n > 0 && n <= len(buf)) {
			t.Errorf("message %d of %d bytes: received into the caller's memory: %v", i, n, inBuf)
		}
		if want := map[bool]int{true: 1}[i == 3]; len(m.FDs) != want {
			t.Errorf("message %d: %d descriptors, want %d", i, len(m.FDs), want)
		}
		m.Close()
	}
	if _, err := b.RecvInto(ctx, buf); err != io.EOF {
		t.Fatalf("RecvInto after the last message = %v, want io.EOF", err)
	}
}

// A message sent in a memfd whatever the socket's limit (over 8 MiB) comes
// into the caller's memory when it fits, and whole into memory of its own
// when it does not.
func TestRecvIntoFromMemfd(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := pair(t)
	ctx := context.Background()
	want := bytes.Repeat([]byte("memfd!"), (9<<20)/6)
	for _, size := range []int{len(want) + 10, len(want) - 1} {
		errc := make(chan error, 1)
		go func() { errc <- a.Send(ctx, transport.Msg{Kind: 1, Data: want}) }()
		buf := make([]byte, size)
		m, err := b.RecvInto(ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Data, want) {
			t.Fatalf("buffer of %d: received %d bytes, not the message", size, len(m.Data))
		}
		if inBuf := &m.Data[0] == &buf[0]; inBuf != (size >= len(want)) {
			t.Errorf("buffer of %d for %d bytes: received into it: %v", size, len(want), inBuf)
		}
	}
}
