package examples

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mpgo/mp/examples/examplestest"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

// count returns how many lines match the pattern.
func count(lines []string, pattern string) int {
	re := regexp.MustCompile(pattern)
	n := 0
	for _, l := range lines {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

func TestTaskMaster(t *testing.T) {
	lines := examplestest.Run(t, "cluster-task-master")
	out := strings.Join(lines, "\n")
	results := map[string]bool{}
	re := regexp.MustCompile(`^Result: (\d+) \* (\d+) = (\d+)$`)
	for _, l := range lines {
		if m := re.FindStringSubmatch(l); m != nil {
			results[m[1]] = true
		}
	}
	for _, want := range []struct {
		pattern string
		n       int
	}{{`^Put task \d+\.\.\.$`, 10}, {`^Result: `, 10}, {`^Connect to server nats://127\.0\.0\.1:\d+\.\.\.$`, 2}, {`^worker exit\.$`, 2}, {`^master exit\.$`, 1}} {
		if n := count(lines, want.pattern); n != want.n {
			t.Errorf("%d lines match %s, want %d:\n%s", n, want.pattern, want.n, out)
		}
	}
	if n := count(lines, `^run task \d+ \* \d+\.\.\.$`); n < 10 {
		t.Errorf("%d tasks run, want at least 10:\n%s", n, out)
	}
	for _, l := range lines {
		if n, ok := strings.CutPrefix(l, "Put task "); ok && !results[strings.TrimSuffix(n, "...")] {
			t.Errorf("no result for %q:\n%s", l, out)
		}
	}
}
