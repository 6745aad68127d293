package descr_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mpgo/mp/internal/descr"
)

// checkPair checks that both descriptors are close-on-exec and blocking,
// and that a byte written on w is read on r.
func checkPair(t *testing.T, r, w int) {
	t.Helper()
	for _, fd := range []int{r, w} {
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
			t.Errorf("fd %d: flags %#x, %v: want close-on-exec", fd, fl, err)
		}
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK != 0 {
			t.Errorf("fd %d: status %#x, %v: want blocking", fd, fl, err)
		}
	}
	if _, err := unix.Write(w, []byte{42}); err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	if n, err := unix.Read(r, b[:]); n != 1 || b[0] != 42 {
		t.Fatalf("read %d %v %v", n, b, err)
	}
}

func TestStreamPair(t *testing.T) {
	fds, err := descr.StreamPair()
	if err != nil {
		t.Fatal(err)
	}
	defer descr.Close(fds[:])
	if typ, err := unix.GetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_STREAM {
		t.Errorf("type %d, %v: want SOCK_STREAM", typ, err)
	}
	checkPair(t, fds[0], fds[1])
	checkPair(t, fds[1], fds[0])
}

func TestPipe(t *testing.T) {
	p, err := descr.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer descr.Close(p[:])
	checkPair(t, p[0], p[1])
}

// TestRecvmsgCloexec sends a descriptor that is not close-on-exec, and
// receives it close-on-exec.
func TestRecvmsgCloexec(t *testing.T) {
	fds, err := descr.StreamPair()
	if err != nil {
		t.Fatal(err)
	}
	defer descr.Close(fds[:])
	p, err := descr.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer descr.Close(p[:])
	sent, err := unix.Dup(p[0])
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sent)
	if err := unix.Sendmsg(fds[0], []byte{1}, unix.UnixRights(sent), nil, 0); err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, err := descr.Recvmsg(fds[1], b[:], oob, 0)
	if err != nil || n != 1 {
		t.Fatalf("Recvmsg: %d, %v", n, err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v, %v", msgs, err)
	}
	got, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(got) != 1 {
		t.Fatalf("rights %v, %v", got, err)
	}
	defer unix.Close(got[0])
	if fl, err := unix.FcntlInt(uintptr(got[0]), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
		t.Fatalf("received descriptor flags %#x, %v: want close-on-exec", fl, err)
	}
}
