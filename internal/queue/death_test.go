package queue

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const childEnv = "MP_QUEUE_TEST_CHILD"

func TestMain(m *testing.M) {
	mode, arg, _ := strings.Cut(os.Getenv(childEnv), ":")
	switch mode {
	case "die-holding-lock":
		dieHoldingLock()
	case "die-in-get":
		dieInGet(arg)
	case "die-in-bulk-put":
		dieInBulkPut(arg)
	}
	os.Exit(m.Run())
}

const childFDsEnv = "MP_QUEUE_TEST_FDS"

// inherited attaches the queue whose descriptors a child inherited (see
// runChild).
func inherited() *Core {
	n, err := strconv.Atoi(os.Getenv(childFDsEnv))
	if err != nil {
		os.Exit(2)
	}
	fds := make([]int, n)
	for i := range fds {
		fds[i] = 3 + i
	}
	c, err := Attach(fds, false)
	if err != nil {
		os.Exit(2)
	}
	return c
}

// runChild runs this test binary as a child in the given mode (see
// TestMain), with the descriptors of c's queue from descriptor 3 on.
func runChild(t *testing.T, c *Core, mode string) error {
	t.Helper()
	var files []*os.File
	err := c.FDs(func(fds []int) error {
		for _, fd := range fds {
			d, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
			if err != nil {
				return err
			}
			files = append(files, os.NewFile(uintptr(d), "queue"))
		}
		return nil
	})
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, childFDsEnv+"="+strconv.Itoa(len(files)))
	cmd.ExtraFiles = files
	return cmd.Run()
}

// dieHoldingLock runs in a child: it takes the lock of the queue whose
// descriptors it inherited, scribbles over the state copy that is not
// current (as a Put that dies halfway would), and exits.
func dieHoldingLock() {
	c := inherited()
	c.lock()
	next := c.r.u32(offCur).Load() ^ 1
	for i := range stateSize {
		c.r.mem[c.stateOff(next)+i] = 0xee
	}
	os.Exit(0)
}

func TestLockHolderDies(t *testing.T) {
	c := newCore(t, FIFO, 0, 0, false)
	put(t, c, "kept")
	if err := runChild(t, c, "die-holding-lock"); err != nil {
		t.Fatalf("child: %v", err)
	}
	if owner := c.lk.Owner(); owner == 0 {
		t.Fatal("the child did not leave the lock held")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	it, err := c.take(ctx, true)
	if err != nil || string(it.Data) != "kept" {
		t.Fatalf("Get() after the holder died = %q, %v", it.Data, err)
	}
	t.Logf("lock taken over after %v", time.Since(start))
	if c.Len() != 0 {
		t.Errorf("Len() = %d, want 0", c.Len())
	}
	put(t, c, "after")
	if got := get(t, c); got != "after" {
		t.Errorf("got %q", got)
	}
}
