package connring

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/transport"
	"golang.org/x/sys/unix"
)

// A child process holds one end and sends back what it receives: messages
// of every path through the ring (a small and a large record, a ticket
// for a message over a quarter of the ring, one for a message that the
// transport sends in a memfd, a ticket for a descriptor) come back in
// order and whole, the descriptor one to the same pipe.
func TestAcrossProcesses(t *testing.T) {
	a, c := echoing(t)
	p, err := descr.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	big := make([]byte, 5<<20)
	rand.NewChaCha8([32]byte{5}).Read(big)
	msgs := []transport.Msg{
		{Kind: 1, Data: pattern[:64]},
		{Kind: 2, Data: pattern[1 : 1+64<<10]},
		{Kind: 3, Data: pattern[2 : 2+300<<10]},
		{Kind: 4, Data: big},
		{Kind: 5, Data: []byte("written into the descriptor"), FDs: []int{p[1]}},
		{Kind: 6, Data: pattern[3:67]},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sent := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			if err := a.Send(ctx, m); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	for i, want := range msgs {
		got, err := a.RecvInto(ctx, nil)
		if err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
		if got.Kind != want.Kind || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("echo %d: kind %d and %d bytes, want kind %d and %d bytes, the same", i, got.Kind, len(got.Data), want.Kind, len(want.Data))
		}
		if len(got.FDs) != len(want.FDs) {
			t.Fatalf("echo %d: %d descriptors, want %d", i, len(got.FDs), len(want.FDs))
		}
		if len(want.FDs) == 1 {
			var st1, st2 unix.Stat_t
			if err := unix.Fstat(got.FDs[0], &st1); err != nil {
				t.Fatal(err)
			}
			if err := unix.Fstat(want.FDs[0], &st2); err != nil {
				t.Fatal(err)
			}
			if st1.Dev != st2.Dev || st1.Ino != st2.Ino {
				t.Errorf("echo %d: the descriptor came back as another file", i)
			}
		}
		got.Close()
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	unix.Close(p[1])
	a.Close()
	if err := c.wait(); err != nil {
		t.Fatalf("echo child: %s", c.why())
	}
	// Every copy of the write end is closed now: the child's, ours.
	note, err := readAll(p[0])
	if err != nil || string(note) != "written into the descriptor" {
		t.Errorf("the pipe whose write end travelled holds %q, %v", note, err)
	}
}

// settleFDs lets the runtime open what it opens once (the poller's
// descriptors), so that counts of descriptors before and after a test
// compare.
func settleFDs(t *testing.T) int {
	t.Helper()
	a, b, err := Pair(0)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	b.Close()
	return openFDs(t)
}

// killRig is what a test that kills processes at random starts with: a
// seeded source of randomness (the seed is logged, to replay a failure),
// the count of this process's descriptors, a pipe and a context.
func killRig(t *testing.T) (*rand.Rand, int, *End, *End, context.Context) {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	fdsBefore := settleFDs(t)
	a, b, err := Pair(0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return rng, fdsBefore, a, b, ctx
}

// Senders killed at random moments while they stream messages of every
// shape into one end leave the reader, for each, a prefix of its
// messages: no gap, no duplicate, no corrupt message; the ring goes on
// working, the stream ends with EOF, and the datagrams of tickets that no
// dead sender committed leave no descriptor open in the reader.
func TestSenderKilled(t *testing.T) {
	needRing(t)
	rounds := 80
	if testing.Short() {
		rounds = 8
	}
	rng, fdsBefore, a, b, ctx := killRig(t)

	type stream struct {
		next  uint32        // the number expected next
		first chan struct{} // closed at its first message
	}
	var (
		mu                   sync.Mutex
		streams              = map[uint32]*stream{}
		received, gaps, dups int
		shapes               [4]int
		bad                  []error
		readErr              error
		readEnded            = make(chan struct{})
		postID               = uint32(1 << 20) // the parent's own messages, after the kills
		postCount            = uint32(40)
		kills                int
	)
	newStream := func(id uint32) <-chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		s := &stream{first: make(chan struct{})}
		streams[id] = s
		return s.first
	}
	go func() {
		defer close(readEnded)
		buf := make([]byte, 128<<10)
		for {
			m, err := b.RecvInto(ctx, buf)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err
				}
				return
			}
			id, n, err := checkNumbered(m)
			mu.Lock()
			s := streams[id]
			switch {
			case err != nil:
				bad = append(bad, err)
			case s == nil:
				bad = append(bad, fmt.Errorf("message %d of unknown sender %d", n, id))
			case n == s.next:
				s.next++
				received++
				shapes[shapeOf(n)]++
			case n < s.next:
				dups++
			default:
				gaps++
				s.next = n + 1
			}
			if s != nil && s.first != nil {
				close(s.first)
				s.first = nil
			}
			mu.Unlock()
		}
	}()

	start := time.Now()
	for r := range rounds {
		var wg sync.WaitGroup
		for j := range 2 {
			id := uint32(2*r + j)
			delay := time.Duration(rng.Int64N(int64(12 * time.Millisecond)))
			first := newStream(id)
			c := startChild(t, a, "send:"+strconv.Itoa(int(id)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case <-first:
				case <-c.exited:
					t.Errorf("sender %d ended before its first message: %s", id, c.why())
					return
				case <-readEnded:
					c.kill()
					return
				case <-time.After(30 * time.Second):
					t.Errorf("no message from sender %d in 30 s", id)
					c.kill()
					return
				}
				time.Sleep(delay)
				killed, _ := c.kill()
				mu.Lock()
				defer mu.Unlock()
				if !killed {
					t.Errorf("sender %d ended before it was killed: %s", id, c.why())
					return
				}
				kills++
			}()
		}
		wg.Wait()
	}
	killTime := time.Since(start)

	// The ring, and the socket, as the dead left them carry more.
	newStream(postID)
	for n := range postCount {
		m, err := numbered(postID, n)
		if err != nil {
			t.Fatal(err)
		}
		err = a.Send(ctx, m)
		m.Close()
		if err != nil {
			t.Fatalf("send %d after the kills: %v", n, err)
		}
	}
	a.Close()
	<-readEnded
	b.Close()
	if readErr != nil {
		t.Errorf("receive: %v (want EOF at the end, after every message)", readErr)
	}
	fdsAfter := openFDs(t)

	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d senders killed in %v; %d messages received (%d small records, %d large records, %d tickets for large messages, %d tickets for descriptors); %d gaps, %d duplicates, %d bad",
		kills, killTime.Round(time.Millisecond), received, shapes[small], shapes[bulk], shapes[ticketed], shapes[withFD], gaps, dups, len(bad))
	t.Logf("descriptors open: %d before, %d after", fdsBefore, fdsAfter)
	if gaps != 0 || dups != 0 {
		t.Errorf("%d gaps and %d duplicates in the senders' streams, want none", gaps, dups)
	}
	for i, err := range bad {
		if i == 5 {
			t.Errorf("... %d more", len(bad)-i)
			break
		}
		t.Error(err)
	}
	if got := streams[postID].next; got != postCount {
		t.Errorf("%d of the %d messages sent after the kills received", got, postCount)
	}
	if fdsAfter != fdsBefore {
		t.Errorf("%d descriptors open after the test, %d before: the datagrams of dead senders leaked some", fdsAfter, fdsBefore)
	}
}

// reader is a child that receives numbered messages and reports their
// numbers.
type reader struct {
	*child
	first    chan struct{} // closed at its first report
	reported chan struct{} // closed when its reports end
}

// Readers killed at random moments while they take messages of every
// shape lose at most the message each had taken (received, or whose
// ticket it had committed) and not yet reported; none is delivered twice,
// none corrupt, and the ring goes on working for the readers that follow.
func TestReaderKilled(t *testing.T) {
	needRing(t)
	kills := 120
	if testing.Short() {
		kills = 16
	}
	rng, fdsBefore, a, b, ctx := killRig(t)

	var (
		mu     sync.Mutex
		counts = map[uint32]int{}
		bad    int
		all    []*reader
	)
	startReader := func() *reader {
		p, err := descr.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		w := os.NewFile(uintptr(p[1]), "reports")
		c := startChild(t, b, "read", w)
		w.Close()
		rd := &reader{child: c, first: make(chan struct{}), reported: make(chan struct{})}
		all = append(all, rd)
		go func() {
			defer close(rd.reported)
			f := os.NewFile(uintptr(p[0]), "reports")
			defer f.Close()
			var rep [4]byte
			for i := 0; ; i++ {
				if _, err := io.ReadFull(f, rep[:]); err != nil {
					return
				}
				n := binary.LittleEndian.Uint32(rep[:])
				mu.Lock()
				if n == badReport {
					bad++
				} else {
					counts[n]++
				}
				mu.Unlock()
				if i == 0 {
					close(rd.first)
				}
			}
		}()
		return rd
	}

	stop := make(chan struct{})
	sendDone := make(chan error, 1)
	// sent is how many messages were sent; the last ones, from afterKills
	// on, after the last kill.
	var sent, afterKills uint32
	go func() {
		var n uint32
		var err error
		defer func() {
			sent = n
			a.Close()
			sendDone <- err
		}()
		tail := -1 // messages still to send once told to stop
		for ; tail != 0; n++ {
			if tail < 0 {
				select {
				case <-stop:
					tail = 200
					afterKills = n
				default:
				}
			}
			if tail > 0 {
				tail--
			}
			var m transport.Msg
			if m, err = numbered(0, n); err != nil {
				return
			}
			sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
			err = a.Send(sctx, m)
			scancel()
			m.Close()
			if err != nil {
				err = fmt.Errorf("send %d: %w", n, err)
				return
			}
		}
	}()

	readers := []*reader{startReader(), startReader()}
	start := time.Now()
	for k := 0; k < kills; k++ {
		i := rng.IntN(len(readers))
		delay := time.Duration(rng.Int64N(int64(12 * time.Millisecond)))
		v := readers[i]
		select {
		case <-v.first:
		case <-v.exited:
			t.Fatalf("a reader ended before it was killed: %s", v.why())
		case err := <-sendDone:
			t.Fatalf("the sender stopped: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatalf("a reader reported nothing in 30 s")
		}
		time.Sleep(delay)
		if killed, _ := v.kill(); !killed {
			t.Fatalf("a reader ended before it was killed: %s", v.why())
		}
		readers[i] = startReader()
	}
	killTime := time.Since(start)
	close(stop)
	if err := <-sendDone; err != nil {
		t.Errorf("%v (readers asleep while messages wait?)", err)
	}
	for _, r := range readers {
		if err := r.wait(); err != nil {
			t.Errorf("a reader at the end of the stream: %s", r.why())
		}
	}
	for _, r := range all {
		<-r.reported
	}
	b.Close()
	fdsAfter := openFDs(t)

	mu.Lock()
	defer mu.Unlock()
	var delivered, lost, lostAfter, dups, beyond int
	for n := range sent {
		switch c := counts[n]; {
		case c == 0:
			lost++
			if n >= afterKills {
				lostAfter++
			}
		case c == 1:
			delivered++
		default:
			delivered++
			dups += c - 1
		}
	}
	for n := range counts {
		if n >= sent {
			beyond++
		}
	}
	t.Logf("%d readers killed in %v; %d messages sent, %d delivered, %d lost, %d duplicated, %d bad, %d unknown numbers",
		kills, killTime.Round(time.Millisecond), sent, delivered, lost, dups, bad, beyond)
	t.Logf("descriptors open: %d before, %d after", fdsBefore, fdsAfter)
	if dups != 0 || bad != 0 || beyond != 0 {
		t.Errorf("%d duplicated, %d bad, %d unknown messages: want none", dups, bad, beyond)
	}
	if lostAfter != 0 {
		t.Errorf("%d of the %d messages sent after the last kill lost", lostAfter, sent-afterKills)
	}
	if lost > kills {
		t.Errorf("%d messages lost to %d kills: a dead reader loses at most the one it had taken", lost, kills)
	}
	if fdsAfter != fdsBefore {
		t.Errorf("%d descriptors open after the test, %d before", fdsAfter, fdsBefore)
	}
}

// exchange sends a small message and a ticketed one each way between a
// and b, and checks they arrive.
func exchange(t *testing.T, ctx context.Context, a, b *End) {
	t.Helper()
	for _, p := range [][2]*End{{a, b}, {b, a}} {
		for _, n := range []uint32{1, 8} {
			m, err := numbered(uint32(p[0].Side()), n)
			if err != nil {
				t.Fatal(err)
			}
			err = p[0].Send(ctx, m)
			m.Close()
			if err != nil {
				t.Fatalf("send from side %d: %v", p[0].Side(), err)
			}
			got, err := p[1].RecvInto(ctx, nil)
			if err != nil {
				t.Fatalf("receive on side %d: %v", p[1].Side(), err)
			}
			if id, gotN, err := checkNumbered(got); err != nil || id != uint32(p[0].Side()) || gotN != n {
				t.Fatalf("received message %d of %d, %v; want %d of %d", gotN, id, err, n, p[0].Side())
			}
		}
	}
}

// A process killed holding a ring's lock leaves it to the next process
// that sends or receives: lockcore hands the lock of a dead owner over.
func TestLockHolderKilled(t *testing.T) {
	needRing(t)
	a, b := pair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, which := range []string{"out", "in"} {
		c := startChild(t, a, "hold:"+which)
		if err := c.wait(); !wasKilled(err) {
			t.Fatalf("the child that took the lock ended with %s, want killed", c.why())
		}
		d := &a.out
		if which == "in" {
			d = &a.in
		}
		if d.lk.Owner() == 0 || d.wlk.Owner() == 0 || d.rlk.Owner() == 0 {
			t.Fatalf("the child left the lock of ring %s free", which)
		}
		start := time.Now()
		exchange(t, ctx, a, b)
		t.Logf("lock of ring %s, left held by a dead process, taken over: a small and a ticketed message each way in %v", which, time.Since(start).Round(time.Microsecond))
		if owner := d.lk.Owner() | d.wlk.Owner() | d.rlk.Owner(); owner != 0 {
			t.Errorf("the lock of ring %s is held by %#x after the exchange", which, owner)
		}
	}
}

// sleepThenSend checks that a message sent while b's reader sleeps wakes
// it.
func sleepThenSend(t *testing.T, a, b *End) {
	t.Helper()
	type result struct {
		m   transport.Msg
		err error
	}
	got := make(chan result, 1)
	rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer rcancel()
	sleepers := b.in.sleepers.Load()
	go func() {
		m, err := b.RecvInto(rctx, nil)
		got <- result{m, err}
	}()
	waitUntil(t, "the reader to sleep", func() bool { return b.in.sleepers.Load() > sleepers })
	if err := a.Send(context.Background(), transport.Msg{Kind: 1, Data: []byte("after")}); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil || string(r.m.Data) != "after" {
		t.Fatalf("Recv = %q, %v: the message sent after the death did not wake the sleeping reader", r.m.Data, r.err)
	}
}

// A sender dies between its wake and its commit, or a reader between its
// commit and taking the wake out of the socket: either leaves the wake
// flag set, a wake in the socket and no record for it. The next reader to
// find the ring empty takes the wake out; the next message must still
// wake a reader asleep, and make a polled descriptor readable.
func TestDeathBetweenWakeAndCommit(t *testing.T) {
	needRing(t)
	deadSender := func(t *testing.T) (a, b *End) {
		a, b = pair(t)
		c := startChild(t, a, "wake-then-die")
		if err := c.wait(); !wasKilled(err) {
			t.Fatalf("the child ended with %s, want killed", c.why())
		}
		return a, b
	}
	deadReader := func(t *testing.T) (a, b *End) {
		a, b = pair(t)
		b.Fd() // as mp.Wait does: every send wakes
		if err := a.Send(context.Background(), transport.Msg{Kind: 1, Data: []byte("taken by the dead")}); err != nil {
			t.Fatal(err)
		}
		c := startChild(t, b, "take-then-die")
		if err := c.wait(); !wasKilled(err) {
			t.Fatalf("the child ended with %s, want killed", c.why())
		}
		if !b.in.empty() {
			t.Fatal("the dead reader did not take the record")
		}
		return a, b
	}
	for _, tc := range []struct {
		name  string
		state func(t *testing.T) (a, b *End)
	}{{"sender", deadSender}, {"reader", deadReader}} {
		t.Run(tc.name+"/sleeper", func(t *testing.T) {
			a, b := tc.state(t)
			if a.out.wake.Load() != 1 {
				t.Fatal("the dead left no wake flag")
			}
			b.SetSpin(false)
			sleepThenSend(t, a, b)
		})
		t.Run(tc.name+"/poller", func(t *testing.T) {
			a, b := tc.state(t)
			if a.out.wake.Load() != 1 {
				t.Fatal("the dead left no wake flag")
			}
			if ready, err := b.Armed(context.Background()); ready || err != nil {
				t.Fatalf("Armed() = %v, %v on an empty ring", ready, err)
			}
			if err := a.Send(context.Background(), transport.Msg{Kind: 1, Data: []byte("after")}); err != nil {
				t.Fatal(err)
			}
			pfd := []unix.PollFd{{Fd: int32(b.Fd()), Events: unix.POLLIN}}
			if n, err := unix.Poll(pfd, 5000); n != 1 || err != nil {
				t.Fatalf("poll of the reading end's descriptor = %d, %v with a message waiting", n, err)
			}
		})
	}
}

// scribble is garbage that a process writes into the ring it sends on.
type scribble struct {
	name string
	// write scribbles over d, the direction e sends on.
	write func(e *End, d *dir)
	// headTail: the head and tail are wrong, and a send refuses the ring
	// too.
	headTail bool
}

// record writes a record's header at offset off, and a tail after it.
func record(d *dir, off uint64, kind byte, n int, tail uint64) {
	d.writeHdr(off, kind, n)
	d.tail.Store(tail)
}

var scribbles = []scribble{
	{"tail-unaligned", func(e *End, d *dir) { d.tail.Store(d.head.Load() + 3) }, true},
	{"tail-behind-head", func(e *End, d *dir) { d.head.Store(64); d.tail.Store(32) }, true},
	{"tail-past-ring", func(e *End, d *dir) { d.tail.Store(d.head.Load() + d.size + 8) }, true},
	{"length-past-tail", func(e *End, d *dir) { record(d, 0, kindNumbered, 1000, 16) }, false},
	{"length-past-ring", func(e *End, d *dir) { record(d, 0, kindNumbered, int(^uint32(0)), 16) }, false},
	{"record-across-end", func(e *End, d *dir) {
		d.head.Store(d.size - 16)
		record(d, d.size-16, kindNumbered, 64, d.size+64)
	}, false},
	{"unknown-fields", func(e *End, d *dir) {
		d.writeHdr(0, kindNumbered, 8)
		d.data[6] = 1
		d.tail.Store(16)
	}, false},
	{"wake-record", func(e *End, d *dir) { record(d, 0, kindWake, 0, 8) }, false},
	{"long-ticket", func(e *End, d *dir) { record(d, 0, kindTicket, ticketLen+4, 24) }, false},
	{"bad-wrap", func(e *End, d *dir) {
		d.head.Store(d.size - 16)
		d.writeHdr(0, kindNumbered, 0)
		record(d, d.size-16, kindWrap, 1, d.size+8)
	}, false},
	{"wrap-alone", func(e *End, d *dir) {
		d.head.Store(d.size - 16)
		record(d, d.size-16, kindWrap, 0, d.size)
	}, false},
	{"ticket-without-datagram", func(e *End, d *dir) {
		binary.LittleEndian.PutUint32(d.data[recHdr:], 7)
		record(d, 0, kindTicket, ticketLen, 16)
	}, false},
	{"ticket-behind-its-datagram", func(e *End, d *dir) {
		if err := e.sock.TrySend(transport.Msg{Kind: kindNumbered, Data: []byte("nine"), Seq: 9}); err != nil {
			childFail("send: %v", err)
		}
		binary.LittleEndian.PutUint32(d.data[recHdr:], 3)
		record(d, 0, kindTicket, ticketLen, 16)
	}, false},
	{"garbage", func(e *End, d *dir) {
		rand.NewChaCha8([32]byte{'g'}).Read(d.data[:4096])
		d.tail.Store(4096)
	}, false},
}

// A process that scribbles over the ring it shares (its head and tail, its
// records' headers, a ticket) makes the other's receive fail with a
// protocol error, not panic or hang.
func TestCorruptRing(t *testing.T) {
	needRing(t)
	for _, s := range scribbles {
		t.Run(s.name, func(t *testing.T) {
			a, b := pair(t)
			c := startChild(t, a, "scribble:"+s.name)
			if err := c.wait(); err != nil {
				t.Fatalf("the scribbler: %s", c.why())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			m, err := b.RecvInto(ctx, nil)
			if !errors.Is(err, errs.ErrProtocol) {
				t.Errorf("Recv = kind %d and %d bytes, %v; want a protocol error", m.Kind, len(m.Data), err)
			}
			if s.headTail {
				err := a.Send(ctx, transport.Msg{Kind: 1, Data: []byte("x")})
				if !errors.Is(err, errs.ErrProtocol) {
					t.Errorf("Send = %v; want a protocol error", err)
				}
			}
		})
	}
}
