package manager

import (
	"net"
	"testing"
)

// A reader whose polls get no answer polls less and less often, up to
// maxBackoff waits between polls; an answer waiting is taken at once.
func TestSpinReaderBacksOff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, ok := newReader(c).(*spinReader)
	if !ok {
		t.Fatal("newReader of a TCP connection is not a spinReader")
	}
	var fd uintptr
	r.rc.Control(func(f uintptr) { fd = f })
	r.p = make([]byte, 16)
	tries := 0
	r.tryFn = func() bool { tries++; return r.try() }
	// wait makes one wait with nothing to read, and returns how many
	// times it polled.
	wait := func() int {
		tries = 0
		if r.poll(fd) {
			t.Fatal("poll reported an answer that never came")
		}
		return tries
	}
	for want := 1; want <= maxBackoff; want *= 2 {
		if n := wait(); n == 0 {
			t.Fatalf("backoff %d: the wait due to poll did not", r.backoff)
		}
		if r.backoff != want || r.skip != want {
			t.Fatalf("after a failed poll: backoff %d, skip %d; want %d", r.backoff, r.skip, want)
		}
		for range want {
			if n := wait(); n != 0 {
				t.Fatalf("backoff %d: a wait that should not poll polled %d times", want, n)
			}
		}
	}
	wait()
	if r.backoff != maxBackoff {
		t.Errorf("backoff %d after more failed polls, want the cap %d", r.backoff, maxBackoff)
	}
	if _, err := s.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	// The byte may take a moment to arrive: the first wait that sees it
	// must return it.
	for !r.poll(fd) {
	}
	if r.n != 1 || r.p[0] != 'x' {
		t.Errorf("read %q, want x", r.p[:r.n])
	}
}
