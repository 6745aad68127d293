package queue

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mpgo/mp/examples/examplestest"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

var ansi = regexp.MustCompile("\033\\[[0-9;]*m")

// plain returns the lines without colour codes.
func plain(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = ansi.ReplaceAllString(l, "")
	}
	return out
}

func TestStartMethodSpawn(t *testing.T) {
	lines := examplestest.Run(t, "11")
	// The length is racy: it counts what the child has put so far.
	if len(lines) != 3 || lines[0] != "hello" || lines[2] != "123" || (lines[1] != "0" && lines[1] != "1" && lines[1] != "2") {
		t.Errorf("want hello, 0 to 2, 123; got %q", lines)
	}
}

func TestStartMethodPerProcess(t *testing.T) {
	lines := examplestest.Run(t, "12")
	if len(lines) != 13 || !strings.HasPrefix(lines[0], "note: ") {
		t.Fatalf("%d lines, want a note, 2 producers and 10 items: %q", len(lines), lines)
	}
	// Each producer says how it was started, which shows that the start
	// methods differ for real.
	for _, want := range []string{
		"producer 1 (spawn), pid %C: this process was started after the parent asked for it: a new run of the program",
		"producer 2 (forkserver), pid %C: this process was already running when the parent asked for it: a warm spare",
	} {
		if !slices.ContainsFunc(lines, examplestest.Pattern(want).MatchString) {
			t.Errorf("no line %q in:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	lines = slices.DeleteFunc(lines[1:], func(l string) bool { return strings.HasPrefix(l, "producer ") })
	if len(lines) != 10 {
		t.Fatalf("%d lines, want 10: %q", len(lines), lines)
	}
	count := map[string]int{}
	for _, l := range lines {
		count[l]++
	}
	// Each producer's items arrive in order, so after 10 items at most the
	// first five of each are in, and python0 twice.
	if count["python0"] != 2 {
		t.Errorf("python0 seen %d times, want 2: %q", count["python0"], lines)
	}
	for l, n := range count {
		if n > 2 || !regexp.MustCompile(`^python[0-9]$`).MatchString(l) {
			t.Errorf("line %q seen %d times", l, n)
		}
	}
}

func TestSameProcess(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "22"), "1")
}

func TestParentToChild(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "23"), "100")
}

func TestChildGetPids(t *testing.T) {
	lines := examplestest.Run(t, "24")
	if len(lines) == 2 && strings.HasPrefix(lines[0], "1 ") {
		lines[0], lines[1] = lines[1], lines[0] // the parent's line and the child's race
	}
	examplestest.Match(t, lines, "%P", "1 %C %P")
}

func TestChildToChild(t *testing.T) {
	lines := examplestest.Run(t, "25")
	var puts, gets []string
	for _, l := range lines {
		if strings.HasPrefix(l, "q put ") {
			puts = append(puts, l)
		} else {
			gets = append(gets, l)
		}
	}
	for i := range 10 {
		if i >= len(puts) || puts[i] != fmt.Sprintf("q put %d in queue", i) || i >= len(gets) || gets[i] != fmt.Sprintf("q get %d in queue", i) {
			t.Fatalf("want puts and gets of 0..9 in order:\n%s", strings.Join(lines, "\n"))
		}
	}
	if len(lines) != 20 {
		t.Errorf("%d lines, want 20", len(lines))
	}
}

func TestPutObjects(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "26"), "[42, None, 'hello']", "python", "python3")
}

func TestBidirectional(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "27"), "1", "aaa")
}

func TestBatchPutGet(t *testing.T) {
	lines := plain(examplestest.Run(t, "28"))
	put := regexp.MustCompile(`^(\d+)\(put\):\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$`)
	get := regexp.MustCompile(`^(\d+)\(get\):(.*)$`)
	puts, gets := map[string]int{}, map[string]int{}
	for _, l := range lines {
		if m := get.FindStringSubmatch(l); m != nil {
			gets[m[2]]++
		} else if put.MatchString(l) {
			puts[l]++
		} else {
			t.Errorf("unexpected line %q", l)
		}
	}
	if len(puts) != 10 || len(gets) != 10 {
		t.Fatalf("%d put and %d got messages, want 10 each:\n%s", len(puts), len(gets), strings.Join(lines, "\n"))
	}
	for m := range puts {
		if gets[m] != 1 {
			t.Errorf("message %q got %d times", m, gets[m])
		}
	}
}

func TestWriteReadTerminate(t *testing.T) {
	lines := examplestest.Run(t, "29")
	examplestest.Contains(t, lines, "Put A to queue...", "Put B to queue...", "Put C to queue...", "Get A from queue.", "Get B from queue.", "Get C from queue.")
	var got []string
	for _, l := range lines {
		if strings.HasPrefix(l, "Get ") {
			got = append(got, l)
		}
	}
	if !slices.Equal(got, []string{"Get A from queue.", "Get B from queue.", "Get C from queue."}) {
		t.Errorf("gets out of order: %q", got)
	}
}

// TestWriteReadTerminateOrder runs seed 29 many times: the writer prints
// "Put X" before it puts X, and the reader prints "Get X" after it got X,
// so every "Put X" line must come before its "Get X", although the two
// lines come from different processes.
func TestWriteReadTerminateOrder(t *testing.T) {
	for run := range 20 {
		lines := examplestest.Run(t, "29")
		put := map[string]int{}
		for i, l := range lines {
			if v, ok := strings.CutPrefix(l, "Put "); ok {
				put[strings.TrimSuffix(v, " to queue...")] = i
			}
			if v, ok := strings.CutPrefix(l, "Get "); ok {
				v = strings.TrimSuffix(v, " from queue.")
				if p, ok := put[v]; !ok || p > i {
					t.Fatalf("run %d: %q came before its Put:\n%s", run, l, strings.Join(lines, "\n"))
				}
			}
		}
	}
}

// baozi checks the producer/consumer output: each producer pid made
// baozi1..10 in order, and all of them were consumed exactly once.
func baozi(t *testing.T, lines []string, producers, consumers int) {
	t.Helper()
	re := regexp.MustCompile(`^(\d+) (produced|consumed) (baozi\d+)$`)
	produced := map[string][]string{}
	consumed := map[string]int{}
	seenConsumers := map[string]bool{}
	for _, l := range plain(lines) {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unexpected line %q", l)
		}
		if m[2] == "produced" {
			produced[m[1]] = append(produced[m[1]], m[3])
		} else {
			consumed[m[3]]++
			seenConsumers[m[1]] = true
		}
	}
	if len(produced) != producers || len(seenConsumers) > consumers {
		t.Errorf("%d producers and %d consumers seen, want %d and at most %d", len(produced), len(seenConsumers), producers, consumers)
	}
	for pid, items := range produced {
		for i, it := range items {
			if it != fmt.Sprintf("baozi%d", i+1) {
				t.Errorf("producer %s made %q", pid, items)
				break
			}
		}
	}
	for i := 1; i <= 10; i++ {
		if n := consumed[fmt.Sprintf("baozi%d", i)]; n != producers {
			t.Errorf("baozi%d consumed %d times, want %d", i, n, producers)
		}
	}
}

func TestProducerConsumerSentinel(t *testing.T) {
	baozi(t, examplestest.Run(t, "30"), 1, 1)
}

func TestProducerConsumerTwoEach(t *testing.T) {
	baozi(t, examplestest.Run(t, "31"), 2, 2)
}

func TestJoinableProducerConsumer(t *testing.T) {
	lines := plain(examplestest.Run(t, "32"))
	re := regexp.MustCompile(`^(alex|egon) produced (jiaozi|bread)(\d+)$|^(aoa|kuraki) consumed (\w+)$`)
	consumed := map[string]int{}
	produced := 0
	for _, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unexpected line %q", l)
		}
		if m[1] != "" {
			produced++
		} else {
			consumed[m[5]]++
		}
	}
	if produced != 20 || len(consumed) != 20 {
		t.Fatalf("%d produced, %d distinct consumed, want 20 each:\n%s", produced, len(consumed), strings.Join(lines, "\n"))
	}
	for i := 1; i <= 10; i++ {
		for _, item := range []string{fmt.Sprintf("alexjiaozi%d", i), fmt.Sprintf("egonbread%d", i)} {
			if consumed[item] != 1 {
				t.Errorf("%s consumed %d times", item, consumed[item])
			}
		}
	}
}

func TestFIFO(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "92"), "queue is number: 5", "0", "1", "2", "3", "4", "......end")
}

func TestLIFO(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "93"), "3", "hello3", "hello2", "hello1")
}

func TestPriority(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "94"), "3", "3", "5", "7")
}
