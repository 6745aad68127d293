package lockcore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/mpgo/mp/internal/lockcore"
	"github.com/mpgo/mp/internal/shmem"
	"github.com/mpgo/mp/mptest"
	"golang.org/x/sys/unix"
)

// The test binary is its own helper process: with helperEnv set, it maps
// the region on descriptor 3, does what the variable says, and exits.
const helperEnv = "LOCKCORE_TEST_HELPER"

func TestMain(m *testing.M) {
	if op := os.Getenv(helperEnv); op != "" {
		os.Exit(helper(op))
	}
	mptest.Main(m)
}

// state is the layout of the test region.
type state struct {
	mu      lockcore.Mutex
	counter uint64
	sem     lockcore.Sem
}

func stateOf(r *shmem.Region) *state {
	return (*state)(r.At(0, int(unsafe.Sizeof(state{})), 8))
}

func helper(op string) int {
	r, err := shmem.FromFD(3)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	st := stateOf(r)
	ctx := context.Background()
	switch op {
	case "lock-exit": // hold the lock and exit without unlocking
		st.mu.Lock(ctx)
		return 0
	case "lock-sleep": // hold the lock until killed
		st.mu.Lock(ctx)
		fmt.Println("locked")
		// Not a wait for anything: the holder must not return, since
		// dying while it holds is what the test makes happen.
		time.Sleep(time.Hour)
	case "sem-sleep": // hold two units until killed
		h := &lockcore.SemHandle{S: &st.sem}
		h.Acquire(ctx)
		h.Acquire(ctx)
		fmt.Println("acquired")
		time.Sleep(time.Hour) // as in lock-sleep: held until the kill
	case "incr": // increment the counter under the lock
		for range 20000 {
			st.mu.Lock(ctx)
			st.counter++
			st.mu.Unlock()
		}
		return 0
	}
	return 3
}

// child is a helper process started on a region.
type child struct {
	cmd   *exec.Cmd
	lines *bufio.Scanner
}

func startHelper(t *testing.T, r *shmem.Region, op string) *child {
	t.Helper()
	// The child's copy of the region's descriptor, in a File of its own:
	// a File made of r's descriptor itself would close it when collected,
	// whatever that number names by then.
	dup, err := unix.FcntlInt(uintptr(r.FD()), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(dup), "region")
	defer f.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+op)
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &child{cmd: cmd, lines: bufio.NewScanner(out)}
}

// expect waits for the helper to print line.
func (c *child) expect(t *testing.T, line string) {
	t.Helper()
	if !c.lines.Scan() || strings.TrimSpace(c.lines.Text()) != line {
		t.Fatalf("helper did not print %q (err %v)", line, c.lines.Err())
	}
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	c.cmd.Process.Kill()
	c.cmd.Wait()
}

// waitUntil polls cond every millisecond until it holds, and fails the
// test if it does not within 20 s: tests wait for a condition, not for a
// guessed time.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after 20 s", what)
		}
	}
}

func newState(t *testing.T) (*shmem.Region, *state) {
	t.Helper()
	r, err := shmem.Create("lockcore-test", int(unsafe.Sizeof(state{})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, stateOf(r)
}
