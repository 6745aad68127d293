package connring

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/lockcore"
	"github.com/mpgo/mp/internal/transport"
	"golang.org/x/sys/unix"
)

// The tests of this package that need other processes run this test
// binary again as a child: TestMain switches on childEnv ("mode:arg") and
// the child attaches the end whose descriptors it inherited at 3 (the
// socket) and 4 (the memory), on the side in sideEnv. Further descriptors
// a mode needs follow from 5.
const (
	childEnv = "MP_CONNRING_TEST_CHILD"
	sideEnv  = "MP_CONNRING_TEST_SIDE"
)

func TestMain(m *testing.M) {
	if mode, arg, _ := strings.Cut(os.Getenv(childEnv), ":"); mode != "" {
		switch mode {
		case "echo":
			echoChild()
		case "send":
			sendChild(arg)
		case "read":
			readChild()
		case "hold":
			holdChild(arg)
		case "wake-then-die":
			wakeThenDie()
		case "take-then-die":
			takeThenDie()
		case "scribble":
			scribbleChild(arg)
		case "lend-then-die":
			lendThenDie()
		case "borrow-then-die":
			borrowThenDie()
		}
		childFail("unknown mode %q", mode)
	}
	os.Exit(m.Run())
}

// childFail ends a child with exit status 3 and a message for the parent.
func childFail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(3)
}

// dieNow kills the calling process with SIGKILL, as a kill from outside
// would at this instruction.
func dieNow() {
	unix.Kill(os.Getpid(), unix.SIGKILL)
	select {} // the signal is on its way
}

// inherited attaches, in a child, the end whose descriptors it inherited.
func inherited() *End {
	side, err := strconv.Atoi(os.Getenv(sideEnv))
	if err != nil {
		childFail("side: %v", err)
	}
	e, err := Attach([2]int{3, 4}, side)
	if err != nil {
		childFail("attach: %v", err)
	}
	return e
}

// needRing skips a test on a build without the ring (the portable
// mechanisms, systems other than Linux).
func needRing(t *testing.T) {
	t.Helper()
	a, b, err := Pair(0)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip("no ring on this build")
	}
	if err == nil {
		a.Close()
		b.Close()
	}
}

// echoing starts a child that echoes what it receives on the other end
// of a new pipe, and returns this end and the child.
func echoing(t *testing.T) (*End, *child) {
	t.Helper()
	needRing(t)
	a, b := pair(t)
	c := startChild(t, b, "echo")
	b.Close()
	return a, c
}

// child is this test binary running as a child.
type child struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	exited chan struct{}
	err    error // the exit status, once exited is closed
}

// startChild starts a child in mode (see TestMain) holding a copy of end e,
// with extra from descriptor 5 on. The caller's copies of extra stay its
// own.
func startChild(t *testing.T, e *End, mode string, extra ...*os.File) *child {
	t.Helper()
	var files []*os.File
	var dupErr error
	err := e.Control(func(fds [2]int) {
		for _, fd := range fds {
			d, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
			if err != nil {
				dupErr = err
				return
			}
			files = append(files, os.NewFile(uintptr(d), "connring"))
		}
	})
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if err == nil {
		err = dupErr
	}
	if err != nil {
		t.Fatal(err)
	}
	c := &child{exited: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), childEnv+"="+mode, sideEnv+"="+strconv.Itoa(e.Side()),
		// A child built with -race would otherwise sleep a second at its
		// exit.
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	c.cmd.ExtraFiles = append(files, extra...)
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.wait()
	})
	return c
}

// wait waits for the child to end and returns its exit status.
func (c *child) wait() error {
	<-c.exited
	return c.err
}

// kill kills the child with SIGKILL and waits for it; it reports whether
// the kill ended it (rather than an exit before it).
func (c *child) kill() (killed bool, err error) {
	c.cmd.Process.Kill()
	err = c.wait()
	return wasKilled(err), err
}

// why describes how the child ended, with what it wrote to its stderr.
func (c *child) why() string {
	return fmt.Sprintf("%v: %s", c.err, bytes.TrimSpace(c.stderr.Bytes()))
}

// wasKilled reports an exit status of a process ended by SIGKILL.
func wasKilled(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no descriptor listing: %v", err)
	}
	return len(ents)
}

// waitUntil waits until cond, a look at shared words, holds; it fails the
// test after a while.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(50 * time.Microsecond)
	}
}

// Numbered messages: message n of sender id has a shape chosen by n, so
// that a stream of them takes every path through a ring: small records,
// large records (at most a quarter of the ring), tickets for messages
// over a quarter of it (whose datagram's payload goes in a memfd) and
// tickets for messages with a descriptor. Its bytes are id, n, the
// CRC-32 of the rest, and a stretch of pattern that depends on n.
const (
	kindNumbered = 7
	bulkSize     = 100 << 10 // a record of its own
	ticketSize   = 300 << 10 // over a quarter of the ring: a ticket
	numberedHdr  = 12
	// badReport is what a reader reports for a message that failed its
	// checks.
	badReport = ^uint32(0)
)

type shape int

const (
	small shape = iota
	bulk
	ticketed
	withFD
)

func shapeOf(n uint32) shape {
	switch n % 10 {
	case 6, 7:
		return bulk
	case 8:
		return ticketed
	case 9:
		return withFD
	}
	return small
}

func sizeOf(n uint32) int {
	switch shapeOf(n) {
	case bulk:
		return bulkSize
	case ticketed:
		return ticketSize
	}
	return 16 + int(n*37%1000)
}

var pattern = func() []byte {
	b := make([]byte, ticketSize+4096)
	rand.NewChaCha8([32]byte{'c', 'o', 'n', 'n', 'r', 'i', 'n', 'g'}).Read(b)
	return b
}()

// numbered makes message n of sender id. A message of shape withFD
// carries the read end of a pipe holding "id:n", which the caller closes
// once sent.
func numbered(id, n uint32) (transport.Msg, error) {
	data := make([]byte, sizeOf(n))
	binary.LittleEndian.PutUint32(data[0:], id)
	binary.LittleEndian.PutUint32(data[4:], n)
	copy(data[numberedHdr:], pattern[n%4096:])
	binary.LittleEndian.PutUint32(data[8:], crc32.ChecksumIEEE(data[numberedHdr:]))
	m := transport.Msg{Kind: kindNumbered, Data: data}
	if shapeOf(n) == withFD {
		p, err := descr.Pipe()
		if err != nil {
			return m, err
		}
		_, err = unix.Write(p[1], []byte(fdNote(id, n)))
		unix.Close(p[1])
		if err != nil {
			unix.Close(p[0])
			return m, err
		}
		m.FDs = []int{p[0]}
	}
	return m, nil
}

func fdNote(id, n uint32) string { return fmt.Sprintf("%d:%d", id, n) }

// checkNumbered checks a received numbered message and returns its sender
// and number. It closes the message's descriptors.
func checkNumbered(m transport.Msg) (id, n uint32, err error) {
	defer m.Close()
	if m.Kind != kindNumbered || len(m.Data) < numberedHdr {
		return 0, 0, fmt.Errorf("message of kind %d and %d bytes", m.Kind, len(m.Data))
	}
	id = binary.LittleEndian.Uint32(m.Data[0:])
	n = binary.LittleEndian.Uint32(m.Data[4:])
	if len(m.Data) != sizeOf(n) {
		return id, n, fmt.Errorf("message %d of sender %d has %d bytes, want %d", n, id, len(m.Data), sizeOf(n))
	}
	if crc := crc32.ChecksumIEEE(m.Data[numberedHdr:]); crc != binary.LittleEndian.Uint32(m.Data[8:]) {
		return id, n, fmt.Errorf("message %d of sender %d is corrupt", n, id)
	}
	wantFDs := 0
	if shapeOf(n) == withFD {
		wantFDs = 1
	}
	if len(m.FDs) != wantFDs {
		return id, n, fmt.Errorf("message %d of sender %d has %d descriptors", n, id, len(m.FDs))
	}
	if wantFDs == 1 {
		got, err := readAll(m.FDs[0])
		if err != nil || string(got) != fdNote(id, n) {
			return id, n, fmt.Errorf("message %d of sender %d: its descriptor holds %q, %v", n, id, got, err)
		}
	}
	return id, n, nil
}

// readAll reads fd, a pipe's read end whose write end is closed, to its end.
func readAll(fd int) ([]byte, error) {
	var out []byte
	buf := make([]byte, 64)
	for {
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return out, err
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
	}
}

// echoChild sends back every message it receives, until EOF. Into a
// message's descriptor, it first writes the message's bytes.
func echoChild() {
	e := inherited()
	ctx := context.Background()
	for {
		m, err := e.RecvInto(ctx, nil)
		if errors.Is(err, io.EOF) {
			os.Exit(0)
		}
		if err != nil {
			childFail("echo: receive: %v", err)
		}
		for _, fd := range m.FDs {
			if _, err := unix.Write(fd, m.Data); err != nil {
				childFail("echo: write: %v", err)
			}
		}
		if err := e.Send(ctx, m); err != nil {
			childFail("echo: send: %v", err)
		}
		m.Close()
	}
}

// sendChild sends numbered messages as sender id, as fast as it can,
// until the other end is closed or it is killed.
func sendChild(arg string) {
	id, err := strconv.ParseUint(arg, 10, 32)
	if err != nil {
		childFail("sender id %q", arg)
	}
	e := inherited()
	ctx := context.Background()
	for n := uint32(0); ; n++ {
		m, err := numbered(uint32(id), n)
		if err != nil {
			childFail("sender %d: %v", id, err)
		}
		err = e.Send(ctx, m)
		m.Close()
		if errors.Is(err, unix.EPIPE) {
			os.Exit(0)
		}
		if err != nil {
			childFail("sender %d: send %d: %v", id, n, err)
		}
	}
}

// readChild receives numbered messages until EOF and reports the number of
// each, as 4 little-endian bytes, on descriptor 5 (a pipe: one write of 4
// bytes is atomic), before it takes the next.
func readChild() {
	e := inherited()
	ctx := context.Background()
	buf := make([]byte, 128<<10)
	var rep [4]byte
	for {
		m, err := e.RecvInto(ctx, buf)
		if errors.Is(err, io.EOF) {
			os.Exit(0)
		}
		if err != nil {
			childFail("reader: receive: %v", err)
		}
		_, n, err := checkNumbered(m)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			n = badReport
		}
		binary.LittleEndian.PutUint32(rep[:], n)
		if _, err := unix.Write(5, rep[:]); err != nil {
			childFail("reader: report: %v", err)
		}
	}
}

// holdChild takes the lock of one of its end's rings ("out" or "in") and
// dies holding it.
func holdChild(which string) {
	e := inherited()
	d := &e.out
	if which == "in" {
		d = &e.in
	}
	for _, lk := range []*lockcore.Mutex{d.wlk, d.rlk, d.lk} {
		if err := lock(context.Background(), lk); err != nil {
			childFail("lock: %v", err)
		}
	}
	dieNow()
}

// wakeThenDie does what a send into the ring does, up to the commit: it
// writes a record, sends a wake for a sleeping reader, and dies before it
// stores the tail.
func wakeThenDie() {
	e := inherited()
	d := &e.out
	if err := lock(context.Background(), d.wlk); err != nil {
		childFail("lock: %v", err)
	}
	if _, ok, err := d.put(kindNumbered, []byte("never committed")); !ok || err != nil {
		childFail("put: %v, %v", ok, err)
	}
	if err := lock(context.Background(), d.lk); err != nil {
		childFail("lock: %v", err)
	}
	d.polled.Store(1) // so that the wake is needed
	if w, err := e.wakeReaders(d, false); err != nil || !w.done || d.wake.Load() != 1 {
		childFail("wake: %v", err)
	}
	dieNow()
}

// takeThenDie does what a receive does, up to the commit that takes the
// record at the head, and dies before it settles the wake.
func takeThenDie() {
	e := inherited()
	d := &e.in
	for _, lk := range []*lockcore.Mutex{d.rlk, d.lk} {
		if err := lock(context.Background(), lk); err != nil {
			childFail("lock: %v", err)
		}
	}
	_, _, head, ok, err := d.next()
	if !ok || err != nil {
		childFail("next: %v, %v", ok, err)
	}
	e.commit(d, head)
	dieNow()
}

// scribbleChild writes the garbage of one of scribbles into the ring its
// end sends on, and exits.
func scribbleChild(name string) {
	e := inherited()
	for _, s := range scribbles {
		if s.name == name {
			s.write(e, &e.out)
			os.Exit(0)
		}
	}
	childFail("unknown scribble %q", name)
}

// lendThenDie takes a loan of the ring, fills half of it, and dies
// holding it (and the writers' lock).
func lendThenDie() {
	e := inherited()
	l, err := e.Lend(context.Background(), 1, 1000)
	if err != nil {
		childFail("lend: %v", err)
	}
	copy(l.Bytes(), bytes.Repeat([]byte{0xee}, 500))
	dieNow()
}

// borrowThenDie borrows the message at the head of the ring and dies
// holding it (and the readers' lock), before it releases it.
func borrowThenDie() {
	e := inherited()
	b, err := e.Borrow(context.Background())
	if err != nil {
		childFail("borrow: %v", err)
	}
	if len(b.Bytes()) == 0 {
		childFail("borrowed nothing")
	}
	dieNow()
}
