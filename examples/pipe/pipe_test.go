package pipe

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mpgo/mp/examples/examplestest"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

func TestProcessToProcess(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "13"), "process2 recieve: Hello,This is process1", "", "end all processes.")
}

func TestChildToParent(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "14"), "main process received>>> HelloWorld!", "main process finished!")
}

func TestParentToChild(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "15"), "The massage from parent_process is>>> Hello,child_process!")
}

func TestBothEndsInChild(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "16"),
		"child received on parent_conn>>> the main process sent a message to the child through child_conn",
		"child process finished",
		"main process received on parent_conn>>> the child sent a message to the main process through child_conn",
		"main process finished!")
}

func TestSendBothEnds(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "17"), "python1", "python2", "parent1", "parent2")
}

func TestSameProcess(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "18"), "1234")
}

func TestNoneSentinel(t *testing.T) {
	want := slices.Repeat([]string{"have you eaten?"}, 10)
	examplestest.Match(t, examplestest.Run(t, "19"), want...)
}

func TestEOFClose(t *testing.T) {
	want := slices.Repeat([]string{"have you eaten?"}, 20)
	examplestest.Match(t, examplestest.Run(t, "20"), want...)
}

func TestProducerConsumer(t *testing.T) {
	lines := examplestest.Run(t, "21")
	ansi := regexp.MustCompile("\033\\[[0-9;]*m")
	produced, consumed := map[string]int{}, map[string]int{}
	for _, l := range lines {
		l = ansi.ReplaceAllString(l, "")
		// Each child's output reaches the writer through its own copy, so
		// lines of the two children are not ordered against each other.
		if f, ok := strings.CutPrefix(l, "egon consumed "); ok {
			consumed[f]++
		} else {
			produced[l]++
		}
	}
	if len(produced) != 10 || len(consumed) != 10 {
		t.Errorf("%d produced, %d consumed; want 10 each:\n%s", len(produced), len(consumed), strings.Join(lines, "\n"))
	}
	for f, n := range consumed {
		if n != 1 || produced[f] != 1 {
			t.Errorf("%s produced %d times, consumed %d", f, produced[f], n)
		}
	}
}
