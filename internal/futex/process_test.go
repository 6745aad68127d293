package futex

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The test binary is its own child process: with helperEnv set to a number
// of rounds, it plays the other side of pingPong on the page on descriptor
// 3, and exits.
const helperEnv = "FUTEX_TEST_PONG"

func TestMain(m *testing.M) {
	if arg := os.Getenv(helperEnv); arg != "" {
		os.Exit(pongChild(arg))
	}
	os.Exit(m.Run())
}

// shared is the layout of the page a test shares with its child.
type shared struct {
	ping, pong, other atomic.Uint32
}

const pageSize = 4096

// mapShared maps f's first page, shared, and returns it with its unmap.
func mapShared(f *os.File) (*shared, func(), error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return (*shared)(unsafe.Pointer(&mem[0])), func() { unix.Munmap(mem) }, nil
}

func pongChild(arg string) int {
	rounds, err := strconv.Atoi(arg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	sh, _, err := mapShared(os.NewFile(3, "shared"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	pong(sh, uint32(rounds), true)
	return 0
}

// pong is one side of a round trip: for each round r it sleeps until ping
// reaches r, with no timeout, so that only a Wake (or, where waits poll, a
// look) ends the sleep; then it sets pong to r and wakes the other side.
// With alternate, odd rounds sleep in WaitAny on ping and another word.
func pong(sh *shared, rounds uint32, alternate bool) {
	for r := uint32(1); r <= rounds; r++ {
		for {
			v := sh.ping.Load()
			if v >= r {
				break
			}
			if alternate && r%2 == 1 && CanWaitAny() {
				WaitAny([]Word{{Addr: &sh.ping, Val: v}, {Addr: &sh.other}}, -1)
			} else {
				Wait(&sh.ping, v, -1)
			}
		}
		sh.pong.Store(r)
		Wake(&sh.pong, 1)
	}
}

// ping is the other side: for each round it sets ping, wakes pong's side,
// and sleeps until pong answers, or ctx ends.
func ping(ctx context.Context, sh *shared, rounds uint32) error {
	for r := uint32(1); r <= rounds; r++ {
		sh.ping.Store(r)
		Wake(&sh.ping, 1)
		for {
			v := sh.pong.Load()
			if v == r {
				break
			}
			if err := WaitCtx(ctx, &sh.pong, v); err != nil {
				return fmt.Errorf("round %d: %w", r, err)
			}
		}
	}
	return nil
}

// startPong starts a child process that plays pong for rounds rounds on a
// fresh page, which it returns mapped.
func startPong(tb testing.TB, rounds int) (*shared, *exec.Cmd, *bytes.Buffer) {
	f, err := os.CreateTemp("", "futex-test-")
	if err != nil {
		tb.Fatal(err)
	}
	os.Remove(f.Name())
	defer f.Close()
	if err := f.Truncate(pageSize); err != nil {
		tb.Fatal(err)
	}
	sh, unmap, err := mapShared(f)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(unmap)
	var stderr bytes.Buffer
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+strconv.Itoa(rounds))
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return sh, cmd, &stderr
}

// Waiters in two processes wake each other on a shared page: the child
// sleeps with no timeout, in Wait and (where it works) in WaitAny, so a
// Wake that did not reach it across processes (or, where waits poll, a
// change it did not see) would leave it asleep and fail the test at its
// deadline.
func TestWakeCrossProcess(t *testing.T) {
	const rounds = 200
	sh, cmd, stderr := startPong(t, rounds)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ping(ctx, sh, rounds); err != nil {
		t.Fatalf("ping-pong with a child process: %v (child's stderr: %q)", err, stderr)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v (stderr: %q)", err, stderr)
	}
}

// BenchmarkWakeRoundTrip measures one round trip (set a word and wake its
// sleeper, which sets another and wakes back) between two goroutines of
// this process and between two processes.
func BenchmarkWakeRoundTrip(b *testing.B) {
	b.Run("goroutines", func(b *testing.B) {
		sh := new(shared)
		done := make(chan struct{})
		go func() {
			pong(sh, uint32(b.N), false)
			close(done)
		}()
		b.ResetTimer()
		if err := ping(context.Background(), sh, uint32(b.N)); err != nil {
			b.Fatal(err)
		}
		<-done
	})
	b.Run("processes", func(b *testing.B) {
		sh, cmd, stderr := startPong(b, b.N)
		b.ResetTimer()
		if err := ping(context.Background(), sh, uint32(b.N)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := cmd.Wait(); err != nil {
			b.Fatalf("child: %v (stderr: %q)", err, stderr)
		}
	})
}
