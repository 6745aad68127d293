package examples

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/mpgo/mp/cluster"
	"github.com/mpgo/mp/examples/examplestest"
)

// TestMain is cluster.Main first: the Pool example starts workers as runs of
// this binary with cluster.EnvJoin set.
func TestMain(m *testing.M) {
	cluster.Main()
	os.Exit(m.Run())
}

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

func TestClusterPool(t *testing.T) {
	lines := examplestest.Run(t, "cluster-pool")
	out := strings.Join(lines, "\n")
	for _, want := range []struct {
		pattern string
		n       int
	}{
		{`^worker \d+ started: \S+ with MP_CLUSTER_JOIN=nats://127\.0\.0\.1:\d+$`, 2},
		{`^squares: \[1 4 9 16 25 36 49 64 81 100\]$`, 1},
		{`^killing worker \d+ \(SIGKILL\) while it runs task 7$`, 1},
		{`^task 7 started on worker \d+$`, 2},
		{`^result of task 7: 49 — delivered again after the ack wait of 1s, it ran on worker \d+$`, 1},
	} {
		if n := count(lines, want.pattern); n != want.n {
			t.Errorf("%d lines match %s, want %d:\n%s", n, want.pattern, want.n, out)
		}
	}
	var killed, ranOn string
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "killing worker "); ok {
			killed, _, _ = strings.Cut(rest, " ")
		}
		if _, after, ok := strings.Cut(l, "it ran on worker "); ok {
			ranOn = after
		}
	}
	if killed == "" || killed == ranOn {
		t.Errorf("task 7 ran again on worker %q, the one killed (%q):\n%s", ranOn, killed, out)
	}
}
