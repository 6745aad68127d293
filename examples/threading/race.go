package threading

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 85, Topic: "threading", Name: "thread-balance-race", Title: "no GIL: goroutines can run in parallel, and the race detector catches the unlocked balance", Run: balanceRace})
}

// iterations is how many deposits and withdrawals each goroutine of seeds
// 85 and 86 makes.
const iterations = 1_000_000

// raceExitCode is the exit code of a program in which the race detector
// found a data race (GORACE's exitcode option).
const raceExitCode = 66

// balanceRace is seed 85. Python's threads take turns holding the GIL, so
// its unlocked balance loses updates only now and then. Go has no GIL:
// goroutines run at the same moment on every core, and unsynchronized
// access to shared memory is a data race, a bug with undefined results that
// `go test -race` / `go run -race` report. The example shows both: it
// measures two busy goroutines using more CPU time than wall time, then
// runs the unlocked balance in a child process, where the race detector
// (when the program is built with -race) reports it.
func balanceRace(ctx context.Context, w io.Writer) error {
	cpu, wall := spinInParallel()
	fmt.Fprintln(w, parallelism(cpu, wall, runtime.GOMAXPROCS(0)))
	n := iterations
	if raceEnabled {
		// The race detector needs no long run to see the race, and a long
		// one can outlast its memory of the other goroutine's accesses.
		n = 1000
	}
	var stderr bytes.Buffer
	p := mp.Command(unlockedBalance, n)
	p.Stdout, p.Stderr = w, &stderr
	err := p.Run(ctx)
	var exit *mp.ExitError
	if errors.As(err, &exit) && exit.Code == raceExitCode {
		fmt.Fprintf(w, "the race detector reported it (exit code %d):\n", exit.Code)
		printReportHead(w, stderr.String())
		return nil
	}
	if err == nil && !raceEnabled {
		examples.Note(w, "%s", raceNote)
	}
	return err
}

// raceNote says how to see the race detector's report when the program
// was built without it.
const raceNote = "this program was built without the race detector, so the race above went unreported; " +
	"built with it (go run -race ./cmd/mp tour 85), the child prints the detector's report, which names deposit and withdraw"

// parallelism describes what two busy goroutines did: whether they ran at
// the same moment, which only the CPU time they used beyond the wall time
// can show. It claims no parallelism that the machine did not give.
func parallelism(cpu, wall time.Duration, procs int) string {
	ratio := cpu.Seconds() / wall.Seconds()
	verdict := "they ran at once, on different cores"
	switch {
	case procs < 2:
		verdict = "with GOMAXPROCS=1 they take turns on one core, so this machine cannot show them running at once"
	case ratio < 1.2:
		verdict = "they could not run at once just now (the machine is busy)"
	case ratio < 1.8:
		verdict = "they ran at once part of the time (the machine is busy)"
	}
	return fmt.Sprintf("2 busy goroutines used %.1f× as much CPU time as wall time (GOMAXPROCS=%d): %s", ratio, procs, verdict)
}

// balance is the shared global of seed 85, unguarded on purpose.
var balance int

// unlockedBalance runs seed 85's two goroutines in a child process, so that
// the race stays there.
var unlockedBalance = mp.Register("examples.threading.unlockedBalance", func(ctx context.Context, n int) (struct{}, error) {
	var wg sync.WaitGroup
	for _, k := range []int{5, 8} {
		wg.Go(func() {
			for range n {
				changeIt(k)
			}
		})
	}
	wg.Wait()
	fmt.Printf("unlocked balance after 2 × %d deposits and withdrawals: %d (0 only if no update was lost)\n", n, balance)
	return struct{}{}, nil
})

// changeIt deposits then withdraws n: the balance should not change. The
// two steps are separate functions because, within one function, the
// compiler may assume that no other goroutine touches balance and merge
// them into "balance = balance" — a racy program does not even mean what
// its source says.
func changeIt(n int) {
	deposit(n)
	withdraw(n)
}

//go:noinline
func deposit(n int) { balance = balance + n }

//go:noinline
func withdraw(n int) { balance = balance - n }

// spinInParallel runs two CPU-bound goroutines and returns the CPU time the
// process used meanwhile, and the wall time.
func spinInParallel() (cpu, wall time.Duration) {
	start, cpu0 := time.Now(), cpuTime()
	var wg sync.WaitGroup
	sums := make([]uint64, 2)
	for i := range sums {
		wg.Go(func() { sums[i] = spin(30_000_000) })
	}
	wg.Wait()
	return cpuTime() - cpu0, time.Since(start)
}

// spin does n steps of xorshift, a loop the compiler cannot drop.
func spin(n int) uint64 {
	x := uint64(88172645463325252)
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// printReportHead prints the first lines of the race report in stderr, up
// to the stack of the first access.
func printReportHead(w io.Writer, stderr string) {
	sc := bufio.NewScanner(strings.NewReader(stderr))
	n := -1
	for sc.Scan() && n < 5 {
		line := sc.Text()
		if strings.Contains(line, "WARNING: DATA RACE") {
			n = 0
		}
		if n >= 0 {
			fmt.Fprintln(w, "  "+line)
			n++
		}
	}
}
