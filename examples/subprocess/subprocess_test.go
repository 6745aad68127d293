package subprocess

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mpgo/mp/examples/examplestest"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

// match checks that lines match the regular expressions one to one.
func match(t *testing.T, lines []string, patterns ...string) {
	t.Helper()
	if len(lines) != len(patterns) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(patterns), strings.Join(lines, "\n"))
	}
	for i, p := range patterns {
		if !regexp.MustCompile("^" + p + "$").MatchString(lines[i]) {
			t.Errorf("line %d = %q, want it to match %q", i+1, lines[i], p)
		}
	}
}

func TestRun(t *testing.T) {
	match(t, examplestest.Run(t, "70"),
		"fileA.txt", "fileB.txt", "ls.txt",
		"returncode of the string form: 1",
		"0", `"[0-9]+\.[0-9]+[^"]*\\n"`,
		`CalledProcessError returncode: 1 output: ""`)
}

func TestCall(t *testing.T) {
	lines := examplestest.Run(t, "71")
	if len(lines) < 4 || !strings.Contains(lines[0], "mv") {
		t.Fatalf("mv's usage message is missing:\n%s", strings.Join(lines, "\n"))
	}
	n := len(lines)
	match(t, lines[n-4:], "call returned: 1", "check_call returned: <nil>", "note: Python's check_call returns 0 .*", `".*non_existent_file.*\\n"`)
}

func TestCallExitCode(t *testing.T) {
	match(t, examplestest.Run(t, "77"), "note: the seed runs `nslookup www.baidu.org`.*", `\$ uname -s`, `[A-Za-z]+`, "Exit code:  0")
}

func TestPopenIO(t *testing.T) {
	match(t, examplestest.Run(t, "72"), `"fileA.txt\\n"`, `"fileB.txt\\n"`, `"ls.txt\\n"`, "note: .* ex .*", "33", "5", "test.txt: this is a test")
}

func TestPopenControl(t *testing.T) {
	match(t, examplestest.Run(t, "73"),
		"poll: exited false",
		"terminate -> wait: -15",
		"kill -> wait: -9",
		`send_signal\(SIGINT\) -> wait:( \(still running after 5 s; killed\))? -(2|9)`,
		"TimeoutExpired after 0.5 s; still running: true",
		`communicate: "A\\nB\\n" returncode: 0`)
}

func TestPipeline(t *testing.T) {
	// ls -l of the three files prints a total line and one line each.
	match(t, examplestest.Run(t, "74"), `\("\s+4\s+[0-9]+\s+[0-9]+\\n", nil\)`, `RunPipeline: "4\\n", return codes 0 0`)
}

func TestLineProtocol(t *testing.T) {
	match(t, examplestest.Run(t, "75"),
		"Please Input a path: Well Done.",
		"Please Input a path: Well Done.",
		"Please Input a path: ",
		"child exited with 0")
}

func TestLineChild(t *testing.T) {
	match(t, examplestest.Run(t, "76"), "note: the child is this Go program run again; .* flushes it after each answer", "ok", "ok",
		"without the flush: no answer 300ms after the request, it waits in the child's buffer",
		`stdin closed: the child ends, and its last flush sends "ok\\n"`)
}

func TestCommunicateInput(t *testing.T) {
	match(t, examplestest.Run(t, "78"), "note: the seed feeds nslookup.*", `\$ sh`, "sh says 6 times 7 is 42", `stderr: ".*no_such_command_here.*\\n"`, "Exit Code:  0")
}
