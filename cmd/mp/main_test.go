package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

// errExample is what the failing example of these tests returns.
var errExample = errors.New("the example failed on purpose")

func init() {
	// An example that fails, to check the tour's exit status; it exists
	// only in this test binary.
	examples.Add(examples.Example{Topic: "threading", Name: "zz-test-fails", Title: "fails on purpose",
		Run: func(_ context.Context, w io.Writer) error {
			io.WriteString(w, "about to fail\n")
			return errExample
		}})
}

// runCLI runs the command line and returns its exit code and outputs.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	mptest.CheckLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTourList(t *testing.T) {
	code, out, _ := runCLI(t, "tour", "-list")
	if code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	for _, want := range []string{"process:\n", "pipe:\n", "threading:\n",
		"  01   process-info-pids", "  18   pipe-same-process", "  85   thread-balance-race"} {
		if !strings.Contains(out, want) {
			t.Errorf("tour -list lacks %q:\n%s", want, out)
		}
	}
	// Topics come in the tour's order.
	if p, th := strings.Index(out, "process:\n"), strings.Index(out, "threading:\n"); p > th {
		t.Errorf("process listed after threading:\n%s", out)
	}
}

func TestTourListTopic(t *testing.T) {
	code, out, _ := runCLI(t, "tour", "-list", "pipe")
	if code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	if strings.Contains(out, "process-info-pids") || !strings.Contains(out, "pipe-same-process") {
		t.Errorf("tour -list pipe lists other topics or lacks its own:\n%s", out)
	}
}

func TestTourRunsBySeed(t *testing.T) {
	code, out, _ := runCLI(t, "tour", "18")
	if code != 0 {
		t.Fatalf("exit code %d, want 0:\n%s", code, out)
	}
	for _, want := range []string{"mp tour runs the Go ports of the Python seed programs", "######## pipe ########",
		"=== 18 pipe-same-process — a pipe inside one process\ngo: examples/pipe/pipe.go  python: examples/seeds/18-pipe-same-process.py\n1234\n--- 18 took",
		"1 of 1 examples run, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("tour 18 output lacks %q:\n%s", want, out)
		}
	}
}

// TestTourFindsSeedRunByAnother: seed 61, the client of seed 60's server,
// has no example of its own; asking for it runs example 60.
func TestTourFindsSeedRunByAnother(t *testing.T) {
	code, out, _ := runCLI(t, "tour", "61")
	if code != 0 {
		t.Fatalf("exit code %d, want 0:\n%s", code, out)
	}
	for _, want := range []string{"=== 60 pool-socket-echo", "python: examples/seeds/60-socket-echo-server-pool.py, examples/seeds/61-socket-echo-client.py", "1 of 1 examples run, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("tour 61 output lacks %q:\n%s", want, out)
		}
	}
}

// TestTourExplainsItself: the tour, its list and its help start with how
// to read it.
func TestTourExplainsItself(t *testing.T) {
	for _, args := range [][]string{{"tour", "18"}, {"tour", "-list"}, {"tour", "-help"}, {"tour", "--help"}} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 || !strings.HasPrefix(out, "mp tour runs the Go ports") || errOut != "" {
			t.Errorf("%q: exit code %d, stderr %q, stdout starts %.80q; want 0, nothing, the header", args, code, errOut, out)
		}
	}
	_, out, _ := runCLI(t, "tour", "-help")
	if !strings.Contains(out, "usage: mp tour [-list | -python]") || !strings.Contains(out, "-python") {
		t.Errorf("tour -help lacks the usage and flags:\n%s", out)
	}
}

// TestTourPython prints the Python originals, 61's with 60's.
func TestTourPython(t *testing.T) {
	code, out, _ := runCLI(t, "tour", "-python", "60")
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	for _, want := range []string{"# ---- seed 60, ported by example 60 pool-socket-echo ----\n\"\"\"60-socket-echo-server-pool.py",
		"# ---- seed 61, ported by example 60 pool-socket-echo ----\n\"\"\"61-socket-echo-client.py", "client = socket(AF_INET, SOCK_STREAM)"} {
		if !strings.Contains(out, want) {
			t.Errorf("tour -python 60 lacks %q", want)
		}
	}
}

func TestTourRunsChildProcess(t *testing.T) {
	code, out, _ := runCLI(t, "tour", "process-run-proc", "81")
	if code != 0 {
		t.Fatalf("exit code %d, want 0:\n%s", code, out)
	}
	for _, want := range []string{"=== 02 process-run-proc", "Run child process test (", "Child process end.",
		"######## threading ########", "=== 81 thread-loop-name", "goroutine LoopThread >>> 5", "2 examples run, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("tour output lacks %q:\n%s", want, out)
		}
	}
}

func TestTourFailingExample(t *testing.T) {
	code, out, _ := runCLI(t, "tour", "18", "zz-test-fails")
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{"about to fail", "--- FAIL zz-test-fails: " + errExample.Error(), "2 examples run, 1 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("tour output lacks %q:\n%s", want, out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		code      int
		stdout    string
		stderrHas string
	}{
		{args: nil, code: 2, stderrHas: "usage: mp <command>"},
		{args: []string{"nosuch"}, code: 2, stderrHas: `mp: unknown command "nosuch"`},
		{args: []string{"tour", "nosuch"}, code: 2, stderrHas: `no topic, seed or example named "nosuch"`},
		{args: []string{"tour", "999"}, code: 2, stderrHas: `named "999"`},
		{args: []string{"tour", "-bogus"}, code: 2, stderrHas: "flag provided but not defined: -bogus"},
		{args: []string{"help"}, code: 0, stdout: "usage: mp <command>"},
	} {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("run(%q) = %d, want %d", tc.args, code, tc.code)
			}
			if !strings.Contains(errOut, tc.stderrHas) {
				t.Errorf("run(%q) stderr = %q, want it to contain %q", tc.args, errOut, tc.stderrHas)
			}
			if !strings.Contains(out, tc.stdout) || (tc.stdout == "" && out != "") {
				t.Errorf("run(%q) stdout = %q, want %q", tc.args, out, tc.stdout)
			}
		})
	}
}

func TestTourStopsWhenCancelled(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	code := run(ctx, []string{"tour", "threading"}, &out, io.Discard)
	if code != 1 {
		t.Errorf("exit code %d after cancel, want 1:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), " run, 1 failed\n") {
		t.Errorf("a cancelled tour should stop after its first example:\n%s", out.String())
	}
}
