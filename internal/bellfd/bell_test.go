package bellfd_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/bellfd"
	"github.com/mpgo/mp/internal/fdtest"
	"golang.org/x/sys/unix"
)

// The test binary is its own helper process: with helperEnv set, it takes
// the bell on descriptor 3, says "ready", sleeps until the bell rings,
// silences it and exits.
const helperEnv = "BELLFD_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helper())
	}
	os.Exit(m.Run())
}

func helper() int {
	if !bellfd.Check(3) {
		fmt.Fprintln(os.Stderr, "descriptor 3 is not a bell")
		return 2
	}
	fmt.Println("ready")
	pfd := []unix.PollFd{{Fd: 3, Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(pfd, 20000)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			fmt.Fprintln(os.Stderr, "no ring:", err)
			return 2
		}
		break
	}
	bellfd.Silence(3)
	return 0
}

func newBell(t *testing.T) int {
	t.Helper()
	fd, err := bellfd.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func readable(t *testing.T, fd int) bool {
	t.Helper()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, 0)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0 && pfd[0].Revents&unix.POLLIN != 0
}

func TestRingSilence(t *testing.T) {
	fd := newBell(t)
	if !bellfd.Check(fd) {
		t.Fatal("a new bell fails Check")
	}
	if readable(t, fd) {
		t.Fatal("a new bell is readable")
	}
	bellfd.Ring(fd)
	bellfd.Ring(fd)
	if !readable(t, fd) {
		t.Fatal("a rung bell is not readable")
	}
	bellfd.Silence(fd)
	if readable(t, fd) {
		t.Fatal("a silenced bell is readable")
	}
	if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Fatalf("descriptor flags %#x, %v: want close-on-exec", flags, err)
	}
}

// Each ring wakes a sleeper in Go's edge-triggered poller, even when the
// bell is readable already, and even when it was rung so often that a FIFO
// would be full: queue bells that are never silenced rely on it. (On Linux
// a write that fails on a full pipe wakes epoll sleepers anyway; the BSDs
// need Ring's way around it.)
func TestEveryRingWakes(t *testing.T) {
	for _, full := range []bool{false, true} {
		t.Run(fmt.Sprintf("full=%v", full), func(t *testing.T) {
			fd := newBell(t)
			if full {
				for range 1 << 17 { // more than any FIFO holds
					bellfd.Ring(fd)
				}
			}
			d, err := unix.Dup(fd)
			if err != nil {
				t.Fatal(err)
			}
			unix.SetNonblock(d, true)
			f := os.NewFile(uintptr(d), "bell")
			defer f.Close()
			rc, err := f.SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			calls := make(chan int, 8)
			done := make(chan error, 1)
			f.SetReadDeadline(time.Now().Add(20 * time.Second))
			go func() {
				n := 0
				done <- rc.Read(func(uintptr) bool {
					n++
					calls <- n
					return n >= 4
				})
			}()
			// Every call but the first follows a ring: with the bell
			// readable all along, a lost edge would leave the sleeper
			// asleep until the deadline.
			for {
				select {
				case n := <-calls:
					if n < 4 {
						bellfd.Ring(fd)
					}
				case err := <-done:
					if err != nil {
						t.Fatalf("sleeper: %v", err)
					}
					return
				}
			}
		})
	}
}

// A bell shared with another process: a ring here wakes it there, and its
// silence there makes the bell unreadable here.
func TestSharedWithChild(t *testing.T) {
	fd := newBell(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	// The child's copy, in a File of its own (one made of fd would close
	// fd when collected, whatever the number names by then).
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	child := os.NewFile(uintptr(dup), "bell")
	defer child.Close()
	cmd.ExtraFiles = []*os.File{child}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q", lines.Text())
	}
	bellfd.Ring(fd)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if readable(t, fd) {
		t.Fatal("the bell the child silenced is readable here")
	}
	bellfd.Ring(fd)
	if !readable(t, fd) {
		t.Fatal("a rung bell is not readable")
	}
}

// Check refuses a descriptor of any other kind: a pipe's end is a FIFO
// too, but open one way.
func TestCheckRefusesForeign(t *testing.T) {
	for what, fd := range fdtest.Foreign(t) {
		wantRefused(t, what, fd)
	}
}

// A FIFO that still has a name is refused: any program could drain it, and
// sleepers would miss a ring.
func TestCheckRefusesNamedFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	wantRefused(t, "named FIFO", fd)
}

func wantRefused(t *testing.T, what string, fd int) {
	t.Helper()
	if bellfd.Check(fd) {
		t.Errorf("Check accepts a %s", what)
	}
}
