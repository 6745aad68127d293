package process

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mpgo/mp/examples/examplestest"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

func TestInfoPids(t *testing.T) {
	lines := examplestest.Run(t, "1")
	examplestest.Match(t, lines, "main line", "process name: MainProcess", "parent process: %C", "process id: %P",
		"function f", "process name: Process-%C", "parent process: %P", "process id: %C", "hello bob")
	if lines[7] == lines[3] {
		t.Error("the child reported the parent's pid as its own")
	}
}

func TestRunProc(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "2"), "Parent process %P.", "Child process will start.", "Run child process test (%C)...", "Child process end.")
}

func TestFuncPids(t *testing.T) {
	lines := examplestest.Run(t, "3")
	if lines[len(lines)-1] != "main process finished!" {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
	examplestest.Contains(t, lines, "parent process ID>>> "+strconv.Itoa(os.Getpid()), "child's parent process ID>>> "+strconv.Itoa(os.Getpid()), "child process is running")
}

func TestTenHello(t *testing.T) {
	lines := examplestest.Run(t, "4")
	seen := map[string]bool{}
	exit := 0
	for _, l := range lines {
		if l == "exit project" {
			exit++
			continue
		}
		seen[l] = true
	}
	if exit != 1 || len(seen) != 10 || !seen["hello 0"] || !seen["hello 9"] {
		t.Errorf("want hello 0..9 once each and one exit line; got:\n%s", strings.Join(lines, "\n"))
	}
}

func TestSubclassTerminate(t *testing.T) {
	lines := examplestest.Run(t, "5")
	examplestest.Contains(t, lines, "p.name: child01", "p.is_alive: true", "p.exitcode: -15", "main process finished")
	if strings.Contains(strings.Join(lines, "\n"), "child process finished") {
		t.Error("the terminated child finished its sleep")
	}
}

func TestDaemon(t *testing.T) {
	lines := examplestest.Run(t, "6")
	examplestest.Match(t, lines, "this person's ID is:%C", "this person's name is:Myprocess-1", "main process finished!",
		"(daemon %C is gone: it died with its parent, before its 3 s sleep ended)")
}

func TestGlobalsNotShared(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "7"), "child process %C [+++ 1 2 3]", "main process %P [+++ a b c]")
}

func TestOutputRace(t *testing.T) {
	lines := examplestest.Run(t, "8")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 6", len(lines))
	}
	for _, l := range lines {
		if !regexp.MustCompile(`^\d: ?\d+ is (running|done)$`).MatchString(l) {
			t.Errorf("line %q mixes output", l)
		}
	}
}

func TestJoinSerial(t *testing.T) {
	var want []string
	for i := range 5 {
		want = append(want, strconv.Itoa(i)+": %C is running", strconv.Itoa(i)+":%C is done")
	}
	examplestest.Match(t, examplestest.Run(t, "9"), want...)
}

func TestNoFork(t *testing.T) {
	lines := examplestest.Run(t, "10")
	if len(lines) != 4 || !strings.Contains(lines[1], "impossible in Go") {
		t.Fatalf("output:\n%s", strings.Join(lines, "\n"))
	}
	examplestest.Match(t, []string{lines[0], lines[2]}, "Process (%P) start...", "I (%P) just created a child process (%C).")
	examplestest.Match(t, lines[3:], "I am child process (%C) and my parent is %P")
}
