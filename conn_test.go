package mp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// job is what connEcho receives: a Conn to answer on, and how to answer.
type job struct {
	Conn  *mp.Conn
	Times int
}

var (
	// connEcho receives values on its Conn and sends each back, Times
	// times, then closes its end.
	connEcho = mp.Register("test.connEcho", func(ctx context.Context, j job) (int, error) {
		defer j.Conn.Close()
		for i := range j.Times {
			var v any
			if err := j.Conn.Recv(ctx, &v); err != nil {
				return i, err
			}
			if err := j.Conn.Send(ctx, v); err != nil {
				return i, err
			}
		}
		return j.Times, nil
	})
	// connServer receives jobs (each carrying a new Conn) on its own Conn
	// and answers each: handles sent to a process that is already running.
	connServer = mp.Register("test.connServer", func(ctx context.Context, c *mp.Conn) (int, error) {
		n := 0
		for {
			var j job
			err := c.Recv(ctx, &j)
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			if err != nil {
				return n, err
			}
			j.Conn.Send(ctx, "served")
			j.Conn.Close()
			n++
		}
	})
	bigEcho = mp.Register("test.bigEcho", func(ctx context.Context, c *mp.Conn) (struct{}, error) {
		b, err := c.RecvBytes(ctx, 0)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, c.SendBytes(ctx, b)
	})
)

// pipe makes a Pipe whose ends the test closes when it ends.
func pipe(t *testing.T, duplex bool) (*mp.Conn, *mp.Conn) {
	t.Helper()
	a, b, err := mp.Pipe(duplex)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		b.Close()
	})
	return a, b
}

func TestPipeSameProcess(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	a, b := pipe(t, true)
	a.Send(ctx, []any{int64(42), nil, "hello"})
	var got []any
	if err := b.Recv(ctx, &got); err != nil || len(got) != 3 || got[0] != int64(42) || got[1] != nil || got[2] != "hello" {
		t.Fatalf("Recv = %#v, %v", got, err)
	}
	b.Send(ctx, map[string]int{"back": 1})
	var m map[string]int
	if err := a.Recv(ctx, &m); err != nil || m["back"] != 1 {
		t.Fatalf("reverse Recv = %v, %v", m, err)
	}
}

// Byte slices received as values keep nil and empty apart, at every size
// (in the ring, by ticket, in a file of their own), and an append to one
// item leaves the next as it was.
func TestRecvByteValues(t *testing.T) {
	ctx := context.Background()
	a, b := pipe(t, true)
	for _, size := range []int{0, 3, 70 << 10, 300 << 10, 5 << 20} {
		sent := [][]byte{bytes.Repeat([]byte{'a'}, size), nil, {}, []byte("next")}
		errc := make(chan error, 1)
		go func() { errc <- a.Send(ctx, sent) }()
		var got [][]byte
		if err := b.Recv(ctx, &got); err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 || !bytes.Equal(got[0], sent[0]) || got[1] != nil || got[2] == nil || len(got[2]) != 0 || string(got[3]) != "next" {
			t.Fatalf("%d bytes: received %d items, nil %v %v", size, len(got), got[1] == nil, got[2] == nil)
		}
		got[0] = append(got[0], "XXXXXXXX"...)
		if string(got[3]) != "next" {
			t.Fatalf("%d bytes: an append to the first item changed the last: %q", size, got[3])
		}
	}
}

func TestSimplexPipe(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	r, w := pipe(t, false)
	if err := r.Send(ctx, 1); !errors.Is(err, mp.ErrReadOnly) {
		t.Errorf("Send on the reading end = %v, want ErrReadOnly", err)
	}
	var v int
	if err := w.Recv(ctx, &v); !errors.Is(err, mp.ErrWriteOnly) {
		t.Errorf("Recv on the writing end = %v, want ErrWriteOnly", err)
	}
	w.Send(ctx, 5)
	if err := r.Recv(ctx, &v); err != nil || v != 5 {
		t.Errorf("Recv = %d, %v", v, err)
	}
}

func TestEOFOnceEveryCopyIsClosed(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	a, b, _ := mp.Pipe(true)
	defer a.Close()
	p := mp.Command(connEcho, job{Conn: b, Times: 1})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	b.Close() // the child still holds its copy
	a.Send(ctx, "ping")
	var s string
	if err := a.Recv(ctx, &s); err != nil || s != "ping" {
		t.Fatalf("Recv = %q, %v", s, err)
	}
	if err := a.Recv(ctx, &s); !errors.Is(err, io.EOF) {
		t.Fatalf("Recv after the child closed the last copy = %v, want io.EOF", err)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestHandlesToARunningProcess(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	ctl, remote, _ := mp.Pipe(true)
	p := mp.Command(connServer, remote)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	remote.Close()
	for range 3 {
		mine, theirs, _ := mp.Pipe(true) // made after the server started
		if err := ctl.Send(ctx, job{Conn: theirs}); err != nil {
			t.Fatal(err)
		}
		theirs.Close()
		var s string
		if err := mine.Recv(ctx, &s); err != nil || s != "served" {
			t.Fatalf("reply on a Conn sent to a running process = %q, %v", s, err)
		}
		mine.Close()
	}
	ctl.Close()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLargeMessagesAcrossProcesses(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	a, b, _ := mp.Pipe(true)
	defer a.Close()
	p := mp.Command(bigEcho, b)
	p.Start()
	b.Close()
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB
	if err := a.SendBytes(ctx, big); err != nil {
		t.Fatal(err)
	}
	got, err := a.RecvBytes(ctx, 0)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("echo of 3 MiB: %d bytes, %v", len(got), err)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRecvBytesLimits(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	a, b := pipe(t, true)
	a.SendBytes(ctx, []byte("0123456789"))
	if _, err := b.RecvBytes(ctx, 5); !errors.Is(err, mp.ErrTooLong) {
		t.Errorf("RecvBytes(maxLength 5) of 10 bytes = %v, want ErrTooLong", err)
	}
	a.SendBytes(ctx, []byte("0123456789"))
	buf := make([]byte, 4)
	_, err := b.RecvBytesInto(ctx, buf)
	var short *mp.BufferTooShortError
	if !errors.As(err, &short) || !errors.Is(err, mp.ErrBufferTooShort) || string(short.Message) != "0123456789" {
		t.Errorf("RecvBytesInto a short buffer = %v, want BufferTooShortError with the message", err)
	}
	a.SendBytes(ctx, []byte("abc"))
	if n, err := b.RecvBytesInto(ctx, buf); err != nil || string(buf[:n]) != "abc" {
		t.Errorf("RecvBytesInto = %q, %v", buf[:n], err)
	}
	a.Send(ctx, "a value")
	if raw, err := b.RecvBytes(ctx, 0); err != nil || !bytes.Contains(raw, []byte("a value")) {
		t.Errorf("RecvBytes of a sent value = %q, %v; want its encoding", raw, err)
	}
	a.SendBytes(ctx, []byte("raw"))
	var s string
	if err := b.Recv(ctx, &s); !errors.Is(err, mp.ErrProtocol) {
		t.Errorf("Recv of raw bytes into a string = %v, want ErrProtocol", err)
	}
}

// RecvBytesInto takes large messages whole: one that fits lands in the
// buffer, one that does not comes whole in the error, and one sent with
// Send comes as its encoding.
func TestRecvBytesIntoLarge(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	a, b := pipe(t, true)
	buf := make([]byte, 1<<20)
	sizes := []int{64 << 10, 1 << 20, 1<<20 + 1, 6 << 20, 100, 1 << 20}
	go func() {
		for i, n := range sizes {
			a.SendBytes(ctx, bytes.Repeat([]byte{byte(i + 1)}, n))
		}
		a.Send(ctx, "a value")
	}()
	for i, n := range sizes {
		want := bytes.Repeat([]byte{byte(i + 1)}, n)
		got, err := b.RecvBytesInto(ctx, buf)
		var short *mp.BufferTooShortError
		switch {
		case n > len(buf):
			if !errors.As(err, &short) || !bytes.Equal(short.Message, want) {
				t.Fatalf("message %d of %d bytes into %d: %v, want BufferTooShortError with the message", i, n, len(buf), err)
			}
		case err != nil || got != n || !bytes.Equal(buf[:got], want):
			t.Fatalf("message %d of %d bytes: got %d, %v", i, n, got, err)
		}
	}
	got, err := b.RecvBytesInto(ctx, buf)
	if err != nil || !bytes.Contains(buf[:got], []byte("a value")) {
		t.Fatalf("RecvBytesInto of a sent value = %q, %v; want its encoding", buf[:got], err)
	}
}

func TestPollAndReady(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := pipe(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if ok, err := b.Poll(ctx); ok || err != nil {
		t.Fatalf("Poll on an empty pipe = %v, %v", ok, err)
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Errorf("Poll returned after %v, before its 100ms timeout", d)
	}
	if b.Ready() {
		t.Error("Ready on an empty pipe")
	}
	a.Send(context.Background(), 1)
	if !b.Ready() {
		t.Error("not Ready with a message waiting")
	}
	a.Close()
	var v int
	b.Recv(context.Background(), &v)
	if !b.Ready() {
		t.Error("not Ready at end of stream (Python: poll is true at EOF)")
	}
}

func TestConnClosedAndConcurrent(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	a, b, _ := mp.Pipe(true)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				a.Send(ctx, g*1000+i)
			}
		}()
	}
	seen := map[int]bool{}
	for range 400 {
		var v int
		if err := b.Recv(ctx, &v); err != nil {
			t.Fatal(err)
		}
		seen[v] = true
	}
	wg.Wait()
	if len(seen) != 400 {
		t.Errorf("%d distinct messages, want 400", len(seen))
	}
	a.Close()
	if err := a.Send(ctx, 1); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("Send on a closed Conn = %v, want ErrClosed", err)
	}
	if err := a.Close(); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	b.Close()
}

func TestWait(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	a1, b1, _ := mp.Pipe(true)
	a2, b2, _ := mp.Pipe(true)
	defer func() { a1.Close(); b1.Close(); a2.Close(); b2.Close() }()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if ready, err := mp.Wait(short, b1, b2); len(ready) != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with nothing ready = %v, %v", ready, err)
	}
	time.AfterFunc(20*time.Millisecond, func() { a2.Send(ctx, "x") })
	ready, err := mp.Wait(ctx, b1, b2)
	if err != nil || len(ready) != 1 || ready[0] != b2 {
		t.Fatalf("Wait = %v, %v; want [b2]", ready, err)
	}
	p := mp.Command(sleep, 50*time.Millisecond)
	p.Start()
	var s string
	b2.Recv(ctx, &s)
	ready, err = mp.Wait(ctx, b1, p)
	if err != nil || len(ready) != 1 || ready[0] != p {
		t.Fatalf("Wait for a process = %v, %v", ready, err)
	}
	if _, ok := p.ExitCode(); !ok {
		t.Error("Wait returned a process that has not ended")
	}
}
