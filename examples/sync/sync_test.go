package sync

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/mpgo/mp/examples/examplestest"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

// count returns how many lines match the pattern.
func count(lines []string, pattern string) int {
	re := regexp.MustCompile("^" + pattern + "$")
	n := 0
	for _, l := range lines {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

func dump(lines []string) string { return strings.Join(lines, "\n") }

// Each process's "running" line comes before its own "done" line, and the
// lock kept the processes one at a time (checked in shared memory: lines
// of different processes travel through different pipes and may overtake
// each other by a moment).
func TestLockOutput(t *testing.T) {
	lines := examplestest.Run(t, "33")
	if len(lines) != 11 || lines[10] != "at most 1 process inside the lock at once" {
		t.Fatalf("want 10 lines and one process at a time, got:\n%s", dump(lines))
	}
	running := map[string]int{}
	for i, l := range lines[:10] {
		var n, pid int
		if _, err := fmt.Sscanf(l, "%d: %d is running", &n, &pid); err == nil {
			running[fmt.Sprintf("%d:%d is done", n, pid)] = i
		}
	}
	for i, l := range lines[:10] {
		if strings.HasSuffix(l, "is done") {
			if r, ok := running[l]; !ok || r > i {
				t.Fatalf("%q without its running line before it:\n%s", l, dump(lines))
			}
			delete(running, l)
		}
	}
	if len(running) != 0 {
		t.Fatalf("running without done:\n%s", dump(lines))
	}
}

func TestLockHello(t *testing.T) {
	lines := examplestest.Run(t, "34")
	for i := range 10 {
		examplestest.Contains(t, lines, fmt.Sprintf("hello world %d", i))
	}
	if len(lines) != 10 {
		t.Fatalf("want 10 lines:\n%s", dump(lines))
	}
}

func TestTicketCheck(t *testing.T) {
	lines := examplestest.Run(t, "35")
	if count(lines, `person[0-4] 1`) != 5 {
		t.Fatalf("want five persons seeing 1 ticket:\n%s", dump(lines))
	}
}

func TestTicketUnlocked(t *testing.T) {
	lines := examplestest.Run(t, "36")
	bought := count(lines, `person[0-4] bought a ticket`)
	failed := count(lines, `no tickets left, person[0-4] failed to buy`)
	// Racing without a lock, at least one buys; usually several do.
	if bought < 1 || bought+failed != 5 {
		t.Fatalf("want five outcomes with at least one purchase:\n%s", dump(lines))
	}
}

func TestTicketLocked(t *testing.T) {
	lines := examplestest.Run(t, "37")
	if count(lines, `person[0-4] bought a ticket`) != 1 || count(lines, `no tickets left, person[0-4] failed to buy`) != 4 {
		t.Fatalf("with the lock exactly one purchase succeeds:\n%s", dump(lines))
	}
	examplestest.Contains(t, lines, `the ticket file holds {"count":0}`)
}

func TestKTV(t *testing.T) {
	lines := examplestest.Run(t, "38")
	if count(lines, `person [1-6] came in to sing`) != 6 || count(lines, `person [1-6] left the ktv`) != 6 {
		t.Fatalf("want six in and six out:\n%s", dump(lines))
	}
	var most int
	fmt.Sscanf(lines[len(lines)-1], "at most %d inside at once", &most)
	if most < 1 || most > 4 {
		t.Fatalf("%d people inside at once, want 1 to 4:\n%s", most, dump(lines))
	}
}

func TestBoundedSemaphore(t *testing.T) {
	lines := examplestest.Run(t, "87")
	if count(lines, `running the thread: Thread-([1-9]|1[0-9]|20)`) != 20 || count(lines, `---end`) != 1 {
		t.Fatalf("want 20 threads and one end:\n%s", dump(lines))
	}
	var most int
	fmt.Sscanf(lines[len(lines)-1], "at most %d inside at once", &most)
	if most < 1 || most > 3 {
		t.Fatalf("%d inside at once, want 1 to 3:\n%s", most, dump(lines))
	}
	if !strings.Contains(lines[len(lines)-1], "released too many times") {
		t.Fatalf("last line %q", lines[len(lines)-1])
	}
}

func TestEventBasics(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "39"), "false",
		"Wait on a clear event with a deadline: mp: timed out: context deadline exceeded", "true", "1")
}

func TestTrafficNoEvent(t *testing.T) {
	lines := examplestest.Run(t, "40")
	if len(lines) != 7 || count(lines, `car[1-5] passes the crossing`) != 5 || count(lines, `.*red light on.*`) != 1 {
		t.Fatalf("want a light and five cars:\n%s", dump(lines))
	}
}

func TestTrafficEvent(t *testing.T) {
	lines := examplestest.Run(t, "41")
	// Six cycles, or more if a car came late: the light waits for it.
	if reds := count(lines, `.*red light on.*`); reds < 6 || count(lines, `.*green light on.*`) != reds {
		t.Fatalf("want six red and six green lights, or more pairs:\n%s", dump(lines))
	}
	for i := 1; i <= 5; i++ {
		examplestest.Contains(t, lines, fmt.Sprintf("car%d passes the crossing", i))
	}
}

func TestLockPrintTime(t *testing.T) {
	lines := examplestest.Run(t, "83")
	if len(lines) != 9 || lines[8] != "exiting the program" {
		t.Fatalf("want 9 lines ending the program:\n%s", dump(lines))
	}
	// The three lines of one goroutine are together: the lock is held
	// across the whole call.
	timed := lines[2:8]
	for i := 1; i < 6; i++ {
		if i != 3 && timed[i] != timed[i-1] {
			t.Fatalf("the lock did not keep a goroutine's lines together:\n%s", dump(lines))
		}
	}
	if timed[0] == timed[3] {
		t.Fatalf("one goroutine printed twice:\n%s", dump(lines))
	}
}

func TestRLock(t *testing.T) {
	lines := examplestest.Run(t, "84")
	if len(lines) != 7 || lines[6] != "program finished!" {
		t.Fatalf("want 7 lines:\n%s", dump(lines))
	}
	// Each owner's run and arithmetic lines come as a pair.
	var body []string
	for _, l := range lines[:6] {
		if !strings.HasPrefix(l, "starting thread") {
			body = append(body, l)
		}
	}
	if len(body) != 4 || !strings.HasPrefix(body[0], "run is:") || !strings.HasPrefix(body[1], "arithmetic:") ||
		!strings.HasPrefix(body[2], "run is:") || !strings.HasPrefix(body[3], "arithmetic:") {
		t.Fatalf("run and arithmetic are not paired:\n%s", dump(lines))
	}
}

func TestBalance(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "86"), "0")
}

func TestEventInput(t *testing.T) {
	lines := examplestest.Run(t, "89")
	if count(lines, "start") != 10 || count(lines, "done") != 10 || count(lines, ">>>:1") != 10 {
		t.Fatalf("want ten rounds:\n%s", dump(lines))
	}
}

func TestCondWaitFor(t *testing.T) {
	lines := examplestest.Run(t, "90")
	var want []string
	for i := range 10 {
		want = append(want, ">>>:1", fmt.Sprintf("running... %d", i), "------------")
	}
	examplestest.Match(t, lines, append(want, "exiting the program")...)
}
