package pool

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mpgo/mp/examples/examplestest"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

// sorted returns the lines sorted, to check output whose order varies.
func sorted(lines []string) []string {
	out := slices.Clone(lines)
	slices.Sort(out)
	return out
}

// pidsOf returns the distinct numbers that follow prefix in lines.
func pidsOf(lines []string, prefix string) map[string]bool {
	out := map[string]bool{}
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			out[strings.Fields(rest)[0]] = true
		}
	}
	return out
}

func TestApplyAsyncBasic(t *testing.T) {
	lines := examplestest.Run(t, "43")
	var want []string
	for i := range 5 {
		want = append(want, "this process`s i is: "+strconv.Itoa(i), strconv.Itoa(i)+" end")
	}
	if !slices.Equal(sorted(lines), sorted(want)) {
		t.Errorf("output:\n%s", strings.Join(lines, "\n"))
	}
	// At most three tasks run at once: the fourth starts after a first ends.
	if i := slices.Index(lines, "this process`s i is: 3"); i >= 0 && !slices.ContainsFunc(lines[:i], func(l string) bool { return strings.HasSuffix(l, " end") }) {
		t.Errorf("a fourth task started before any ended:\n%s", strings.Join(lines, "\n"))
	}
}

func TestApplyAsyncFunctions(t *testing.T) {
	lines := examplestest.Run(t, "44")
	want := []string{"process1 end", "process2 end", "process3 end", "this process is process1", "this process is process2", "this process is process3"}
	if !slices.Equal(sorted(lines), want) {
		t.Errorf("output:\n%s", strings.Join(lines, "\n"))
	}
}

func TestLongTimeTask(t *testing.T) {
	lines := examplestest.Run(t, "45")
	if len(lines) != 13 || lines[0] != "Parent process "+strconv.Itoa(os.Getpid())+"." || lines[12] != "All subprocesses done." {
		t.Fatalf("output:\n%s", strings.Join(lines, "\n"))
	}
	examplestest.Contains(t, lines, "Waiting for all subprocesses done...", "Run task 4 (", "Task 4 runs ")
	if n := len(pidsOf(lines, "Run task ")); n != 5 {
		t.Errorf("%d run lines", n)
	}
}

func TestApplySync(t *testing.T) {
	lines := examplestest.Run(t, "46")
	// Workers' lines reach the writer through one output copy per worker,
	// so two workers' lines are not ordered against each other; sorted,
	// there must be one line per task.
	examplestest.Match(t, slices.Sorted(slices.Values(lines)), "func0 %C", "func1 %C", "func2 %C", "func3 %C", "func4 %C")
}

func TestApplySyncReturn(t *testing.T) {
	lines := examplestest.Run(t, "47")
	// The results are printed by the parent, in order; each worker's "run"
	// line comes through its output copy, not ordered against them.
	var results, want []string
	runs := 0
	for _, l := range lines {
		if examplestest.Pattern("%C run").MatchString(l) {
			runs++
		} else {
			results = append(results, l)
		}
	}
	for i := range 10 {
		want = append(want, strconv.Itoa(i*i))
	}
	examplestest.Match(t, results, want...)
	if runs != 10 {
		t.Errorf("%d run lines, want 10:\n%s", runs, strings.Join(lines, "\n"))
	}
	pids := map[string]bool{}
	for _, l := range lines {
		if pid, ok := strings.CutSuffix(l, " run"); ok {
			pids[pid] = true
		}
	}
	if len(pids) > 3 {
		t.Errorf("%d workers in a Pool(3):\n%s", len(pids), strings.Join(lines, "\n"))
	}
}

func TestApplyAsyncResults(t *testing.T) {
	lines := examplestest.Run(t, "48")
	if len(lines) != 20 {
		t.Fatalf("output:\n%s", strings.Join(lines, "\n"))
	}
	for i, l := range lines[10:] {
		if l != strconv.Itoa(i*i) {
			t.Errorf("result %d = %q", i, l)
		}
	}
	if n := len(pidsOf(lines[:10], "")); n > 3 {
		t.Errorf("%d workers in a Pool(3)", n)
	}
}

func TestDefaultSizeResults(t *testing.T) {
	lines := examplestest.Run(t, "49")
	if len(lines) != 11 || lines[10] != "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]" {
		t.Errorf("output:\n%s", strings.Join(lines, "\n"))
	}
}

func TestStars(t *testing.T) {
	for _, seed := range []string{"50", "51", "53"} {
		t.Run(seed, func(t *testing.T) {
			lines := examplestest.Run(t, seed)
			want := []string{"*", "**", "***", "****"}
			if seed != "53" {
				want = append(want, "")
				// Task 0 prints an empty line; Run trims the output's
				// trailing newlines, so that line is dropped when it
				// happens to come last.
				if len(lines) == 4 {
					lines = append(lines, "")
				}
			}
			if !slices.Equal(sorted(lines), sorted(want)) {
				t.Errorf("output:\n%q", lines)
			}
		})
	}
	examplestest.Match(t, examplestest.Run(t, "52"), "*", "**", "***", "****")
}

func TestMapSquares(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "54"), "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]")
}

func TestEfficiency(t *testing.T) {
	lines := examplestest.Run(t, "55")
	fields := strings.Fields(lines[0])
	if len(lines) != 1 || len(fields) != 2 {
		t.Fatalf("output %q", lines)
	}
	pool, err1 := strconv.ParseFloat(fields[0], 64)
	procs, err2 := strconv.ParseFloat(fields[1], 64)
	if err1 != nil || err2 != nil || pool <= 0 || procs <= 0 {
		t.Errorf("times %q", lines[0])
	}
	t.Logf("pool %.3f s, 100 processes %.3f s", pool, procs)
}

func TestCallbackPids(t *testing.T) {
	lines := examplestest.Run(t, "56")
	// The worker's line reaches the writer through its own output copy, so
	// it is not ordered against the callback's lines, which the parent
	// prints together.
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4: %q", len(lines), lines)
	}
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "in func1 ") })
	if i < 1 {
		t.Fatalf("no func1 line after the first: %q", lines)
	}
	rest := slices.Delete(slices.Clone(lines), i, i+1)
	examplestest.Match(t, rest, "main process: %P", "in func2 %P", "100")
	examplestest.Match(t, lines[i:i+1], "in func1 %C")
	if lines[i] == "in func1 "+strconv.Itoa(os.Getpid()) {
		t.Error("func1 ran in the parent")
	}
}

func TestCallbackFoo(t *testing.T) {
	lines := examplestest.Run(t, "57")
	if len(lines) != 22 || lines[21] != "end" || !strings.HasPrefix(lines[0], "note: foo returns nothing") {
		t.Fatalf("output:\n%s", strings.Join(lines, "\n"))
	}
	done := 0
	for _, l := range lines {
		if l == "exec done: {}" {
			done++
		}
	}
	if done != 10 {
		t.Errorf("%d callbacks", done)
	}
}

func TestAsyncResultTimeout(t *testing.T) {
	lines := examplestest.Run(t, "58")
	examplestest.Match(t, lines, "*mp.Future[int]",
		"note: Python prints the AsyncResult object, <multiprocessing.pool.ApplyResult object at 0x...>; Go prints the Future's type",
		"100", "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]", "0", "1", "4",
		"TimeoutError: mp: timed out: context deadline exceeded",
		"note: the seed does not catch this TimeoutError: Python ends with a traceback and exit status 1; the port prints the error and goes on")
}

func TestMapImapTimeout(t *testing.T) {
	lines := examplestest.Run(t, "59")
	if len(lines) != 6 {
		t.Fatalf("output:\n%s", strings.Join(lines, "\n"))
	}
	examplestest.Match(t, lines[:1], "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]")
	got := strings.Fields(lines[1])
	slices.SortFunc(got, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
	if strings.Join(got, " ") != "0 1 4 9 16 25 36 49 64 81" || !strings.HasSuffix(lines[1], " ") {
		t.Errorf("unordered line %q", lines[1])
	}
	examplestest.Match(t, lines[2:4], " 400", "%C")
	pids := strings.Split(strings.Trim(lines[4], "[]"), ", ")
	distinct := map[string]bool{}
	for _, p := range pids {
		distinct[p] = true
	}
	if len(pids) != 4 || len(distinct) != 4 {
		t.Errorf("four getpid tasks given at once: %s, want four distinct workers", lines[4])
	}
	examplestest.Match(t, lines[5:], "We lacked patience and got a mp.ErrTimeout")
}

func TestSocketEcho(t *testing.T) {
	lines := examplestest.Run(t, "60")
	examplestest.Contains(t, lines, ">>hello\nHELLO", ">>world\nWORLD", ">>mp\nMP", ">>pool workers\nPOOL WORKERS")
	if n := len(pidsOf(lines, "process pid: ")); n < 1 || n > 2 {
		t.Errorf("%d serving workers for two connections:\n%s", n, strings.Join(lines, "\n"))
	}
}
