package threading

import (
	"fmt"

	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mpgo/mp/examples/examplestest"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

// count returns how many lines equal s.
func count(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if l == s {
			n++
		}
	}
	return n
}

func TestSayHi(t *testing.T) {
	lines := examplestest.Run(t, "79")
	if len(lines) != 5 || lines[4] != "-----end" {
		t.Fatalf("want 4 lines in any order, then -----end; got:\n%s", strings.Join(lines, "\n"))
	}
	examplestest.Contains(t, lines, "running on number 33", "running on number 22", "started sayhi(33)", "started sayhi(22)")
	if slices.Index(lines, "started sayhi(33)") > slices.Index(lines, "started sayhi(22)") {
		t.Error("the goroutines were started out of order")
	}
}

func TestSubclass(t *testing.T) {
	lines := examplestest.Run(t, "80")
	var want []string
	for i := range 10 {
		want = append(want, fmt.Sprintf("hehe-%d alive: true", i))
	}
	for i := range 10 {
		want = append(want, fmt.Sprintf("hehe-%d ran in process %%P", i))
	}
	examplestest.Match(t, lines, append(want, "-----end")...)
}

func TestLoopName(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "81"),
		"goroutine main is running...",
		"goroutine LoopThread is running...",
		"goroutine LoopThread >>> 1",
		"goroutine LoopThread >>> 2",
		"goroutine LoopThread >>> 3",
		"goroutine LoopThread >>> 4",
		"goroutine LoopThread >>> 5",
		"goroutine LoopThread ended.",
		"goroutine main ended.")
}

func TestDaemon(t *testing.T) {
	lines := examplestest.Run(t, "82")
	if len(lines) != 15 {
		t.Fatalf("%d lines, want 15:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	examplestest.Match(t, lines[:1], "main goroutine starting")
	examplestest.Match(t, lines[13:], "main goroutine ending", "------end")
	for i := range 4 {
		examplestest.Contains(t, lines, fmt.Sprint("---starting ", i), fmt.Sprint("started worker ", i))
	}
	if n := count(lines, "---done"); n != 4 {
		t.Errorf("%d workers done, want 4", n)
	}
}

func TestLockPrintTime(t *testing.T) {
	lines := examplestest.Run(t, "go-lock-print-time")
	if len(lines) != 9 || lines[8] != "exiting the program" {
		t.Fatalf("want 9 lines ending the program; got:\n%s", strings.Join(lines, "\n"))
	}
	examplestest.Contains(t, lines, "starting goroutine: thread1", "starting goroutine: thread2")
	// The lock makes each goroutine's three lines consecutive, the second
	// goroutine's time at least 3 × 2 ticks after the first's. ("starting"
	// lines are printed before locking.)
	locked := slices.DeleteFunc(slices.Clone(lines[:8]), func(l string) bool { return strings.HasPrefix(l, "starting ") })
	first, second := locked[0:3], locked[3:6]
	for _, group := range [][]string{first, second} {
		if group[0] != group[1] || group[1] != group[2] {
			t.Errorf("lines of two goroutines interleaved: %q", group)
		}
	}
	t1, _ := strconv.ParseFloat(strings.Split(first[0], ",,,")[0], 64)
	t2, _ := strconv.ParseFloat(strings.Split(second[0], ",,,")[0], 64)
	if t2-t1 < (6 * tick).Seconds() {
		t.Errorf("second goroutine started at %v, %v after the first; want ≥ %v", t2, t2-t1, 6*tick)
	}
}

func TestRLock(t *testing.T) {
	lines := examplestest.Run(t, "go-no-rlock")
	if len(lines) != 7 || lines[6] != "program finished!" {
		t.Fatalf("want 7 lines ending the program; got:\n%s", strings.Join(lines, "\n"))
	}
	examplestest.Contains(t, lines, "starting goroutine-1", "starting goroutine-2")
	// "run is" and "arithmetic" of one goroutine come together: the lock is
	// held across both. ("starting" lines are printed before locking.)
	locked := slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return strings.HasPrefix(l, "starting ") })
	var sums []string
	for i, l := range locked {
		if rest, ok := strings.CutPrefix(l, "run is: "); ok {
			sum := rest[strings.LastIndexByte(rest, ' ')+1:]
			sums = append(sums, sum)
			if i+1 >= len(locked) || !strings.HasPrefix(locked[i+1], "arithmetic: ") || !strings.HasSuffix(locked[i+1], " "+sum) {
				t.Errorf("line %d %q not followed by its arithmetic:\n%s", i, l, strings.Join(lines, "\n"))
			}
		}
	}
	slices.Sort(sums)
	if !slices.Equal(sums, []string{"11", "7"}) {
		t.Errorf("sums %v, want 7 and 11", sums)
	}
}

func TestBalanceLock(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "go-balance-lock"), "0")
}

func TestSemaphore(t *testing.T) {
	lines := examplestest.Run(t, "go-semaphore")
	if len(lines) != 22 {
		t.Fatalf("%d lines, want 22:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for i := 1; i <= 20; i++ {
		if count(lines, fmt.Sprint("running the goroutine: ", i)) != 1 {
			t.Errorf("goroutine %d did not run once", i)
		}
	}
	most := strings.TrimPrefix(lines[20], "most inside at once: ")
	if n, err := strconv.Atoi(most); err != nil || n < 1 || n > 3 {
		t.Errorf("line %q: want at most 3 inside at once", lines[20])
	}
	examplestest.Match(t, lines[21:], "---end")
}

func TestTimer(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "88"), "a second timer was cancelled before it fired", "is running...")
}

func TestEventInput(t *testing.T) {
	var want []string
	for _, in := range []string{"1", "1", "1", "2", "1", "1", "1", "1", "1", "1"} {
		want = append(want, "start", ">>>:"+in, "done")
	}
	// The goroutine of the round answered 2 is released in the next round.
	want = slices.Delete(want, 11, 12)
	want = slices.Insert(want, 14, "done")
	examplestest.Match(t, examplestest.Run(t, "go-event-input"), want...)
}

func TestConditionWaitFor(t *testing.T) {
	var want []string
	for i := range 10 {
		switch i {
		case 1:
			want = append(want, ">>>:0")
		case 4:
			want = append(want, ">>>:x")
		}
		want = append(want, ">>>:1", fmt.Sprint("running... ", i), "------------")
	}
	examplestest.Match(t, examplestest.Run(t, "go-condition-wait-for"), append(want, "exiting the program")...)
}

func TestLocal(t *testing.T) {
	lines := examplestest.Run(t, "91")
	slices.Sort(lines)
	examplestest.Match(t, lines,
		"Hello again, Alice (from the context, in goroutine-A)",
		"Hello again, Bob (from the context, in goroutine-B)",
		"Hello, Alice (in goroutine-A)",
		"Hello, Bob (in goroutine-B)")
}
