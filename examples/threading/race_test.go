package threading

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp/examples/examplestest"
)

// TestBalanceRace runs seed 85: the unlocked balance runs in a child
// process, which is this test binary; built with -race, the child's race
// detector reports the race and the example prints the report. Without
// -race, the test runs itself again under -race with the go command.
func TestBalanceRace(t *testing.T) {
	if !raceEnabled {
		// Without the detector, the example says how to see its report.
		lines := examplestest.Run(t, "85")
		examplestest.Contains(t, lines, "unlocked balance after 2 × 1000000 deposits", "note: "+raceNote)
		raceSubprocess(t)
		return
	}
	lines := examplestest.Run(t, "85")
	examplestest.Contains(t, lines, "the race detector reported it (exit code 66):", "WARNING: DATA RACE", "unlocked balance after 2 × 1000 deposits")
	joined := strings.Join(lines, "\n")
	if !strings.Contains(joined, "threading.deposit()") && !strings.Contains(joined, "threading.withdraw()") {
		t.Errorf("the race report names neither deposit nor withdraw:\n%s", joined)
	}
	if !strings.HasPrefix(lines[0], "2 busy goroutines used ") || !strings.Contains(lines[0], "× as much CPU time as wall time (GOMAXPROCS=") {
		t.Errorf("first line %q, want the CPU time of the busy goroutines", lines[0])
	}
}

// raceSubprocess runs TestBalanceRace in a -race build of this package.
func raceSubprocess(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("not built with -race, and no go command to build a -race test binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "test", "-race", "-count=1", "-run", "^TestBalanceRace$", "-v", ".")
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestBalanceRace") {
		t.Fatalf("go test -race: %v\n%s", err, out)
	}
}

// TestParallelismClaims: the example claims that the goroutines ran at
// once only when the CPU time shows it and more than one core was allowed.
func TestParallelismClaims(t *testing.T) {
	for _, tc := range []struct {
		cpu   time.Duration
		procs int
		want  string
	}{
		{1950 * time.Millisecond, 2, "1.9× as much CPU time as wall time (GOMAXPROCS=2): they ran at once, on different cores"},
		{1500 * time.Millisecond, 4, "they ran at once part of the time (the machine is busy)"},
		{1050 * time.Millisecond, 2, "they could not run at once just now (the machine is busy)"},
		// Other threads of the runtime (the garbage collector) can add CPU
		// time even when the goroutines take turns.
		{1900 * time.Millisecond, 1, "with GOMAXPROCS=1 they take turns on one core, so this machine cannot show them running at once"},
	} {
		got := parallelism(tc.cpu, time.Second, tc.procs)
		if !strings.HasSuffix(got, tc.want) {
			t.Errorf("parallelism(%v, 1s, %d) = %q, want it to end in %q", tc.cpu, tc.procs, got, tc.want)
		}
		if tc.procs < 2 && strings.Contains(got, "ran at once") {
			t.Errorf("parallelism claimed with GOMAXPROCS=1: %q", got)
		}
	}
}
