package subprocess_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/procinfo"
	"github.com/mpgo/mp/mptest"
	"github.com/mpgo/mp/subprocess"
)

// markSeq numbers the markers of escapeTree.
var markSeq atomic.Int64

// escapeTree returns a sleep duration no other process uses, so that
// marked finds the processes of one script and nothing else.
func escapeTree() string {
	return fmt.Sprintf("1000.%d%04d", os.Getpid(), markSeq.Add(1))
}

// marked lists the processes whose command line is `sleep marker`, with
// their state (Z for a zombie) and parent.
func marked(marker string) []string {
	var out []string
	for _, pid := range markedPids(marker) {
		info, err := procinfo.Read(pid)
		if err != nil {
			continue
		}
		out = append(out, fmt.Sprintf("%d (state %c, parent %d)", pid, info.State, info.Parent))
	}
	return out
}

// markedPids returns the pids of the processes whose command line is
// `sleep marker`, from /proc: the tests that use it are of containment
// beyond the process group, which only Linux has.
func markedPids(marker string) []int {
	want := []byte("sleep\x00" + marker + "\x00")
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var out []int
	for _, c := range cmdlines {
		data, err := os.ReadFile(c)
		if err != nil || !bytes.Equal(data, want) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(c))); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// killMarked kills what a failed test left, so that it does not outlive
// the test binary.
func killMarked(marker string) {
	for _, pid := range markedPids(marker) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// checkContained fails t if a process of the tree marked by marker is
// alive, or is a zombie that this process is not the parent of (so that
// CheckLeaks would not see it reaped).
func checkContained(t *testing.T, marker string) {
	t.Helper()
	reaped := fmt.Sprintf("state Z, parent %d)", os.Getpid())
	for _, p := range marked(marker) {
		if !strings.HasSuffix(p, reaped) {
			t.Errorf("left behind: %s", p)
		}
	}
}

// escapes are trees whose descendants leave the child's process group in
// the ways daemons do, and one that stays in it.
var escapes = []struct {
	name, script string
}{
	// The tree: a subshell starts a setsid'd sleep and exits, so
	// the sleep is orphaned in a session of its own.
	{"setsid", "( setsid sleep %[1]s & ) ; sleep %[1]s"},
	// A double fork: a child that becomes a session leader forks the
	// daemon and exits.
	{"double fork", "setsid sh -c 'sleep %[1]s & exit 0' ; sleep %[1]s"},
	// A background job stays in the group.
	{"background job", "sleep %[1]s & sleep %[1]s"},
}

// TestTimeoutContainsEscapees: by default, a timeout stops every process
// the child started, including those that left its process group, and
// leaves no zombie behind.
func TestTimeoutContainsEscapees(t *testing.T) {
	linuxOnly(t, "containment beyond the process group (a subreaper, /proc, cgroups)")
	mptest.CheckLeaks(t)
	for _, tc := range escapes {
		t.Run(tc.name, func(t *testing.T) {
			marker := escapeTree()
			defer killMarked(marker)
			_, err := subprocess.Run(bg, []string{fmt.Sprintf(tc.script, marker)}, &subprocess.Options{
				Shell: true, Timeout: 200 * time.Millisecond,
			})
			if !errors.Is(err, subprocess.ErrTimeout) {
				t.Fatalf("Run() = %v, want a timeout", err)
			}
			checkContained(t, marker)
		})
	}
}

// TestTimeoutContainsEscapeesInPopen: the same through Start and Wait, with
// a context that ends.
func TestTimeoutContainsEscapeesInPopen(t *testing.T) {
	linuxOnly(t, "containment beyond the process group (a subreaper, /proc, cgroups)")
	mptest.CheckLeaks(t)
	marker := escapeTree()
	defer killMarked(marker)
	p := start(t, bg, []string{fmt.Sprintf(escapes[0].script, marker)}, &subprocess.Options{
		Shell: true, Timeout: 200 * time.Millisecond,
	})
	if _, err := p.Wait(bg); !errors.Is(err, subprocess.ErrTimeout) {
		t.Fatalf("Wait() = %v, want a timeout", err)
	}
	checkContained(t, marker)
}

// TestContainGroupLeavesEscapees: with ContainGroup, a stop reaches the
// process group only, as before containment; a process that left it runs
// on, and the caller may kill it.
func TestContainGroupLeavesEscapees(t *testing.T) {
	linuxOnly(t, "containment beyond the process group (a subreaper, /proc, cgroups)")
	mptest.CheckLeaks(t)
	marker := escapeTree()
	defer killMarked(marker)
	_, err := subprocess.Run(bg, []string{fmt.Sprintf(escapes[0].script, marker)}, &subprocess.Options{
		Shell: true, Timeout: 200 * time.Millisecond, Contain: subprocess.ContainGroup,
	})
	if !errors.Is(err, subprocess.ErrTimeout) {
		t.Fatalf("Run() = %v, want a timeout", err)
	}
	if left := marked(marker); len(left) != 1 || strings.Contains(left[0], "state Z") {
		t.Errorf("left running: %v, want the one sleep that escaped", left)
	}
}

// TestNormalEndLeavesBackgroundJob: when the child exits by itself, the
// default containment leaves what it started in the background running,
// as Python does; the job, orphaned, is reaped here when it ends.
func TestNormalEndLeavesBackgroundJob(t *testing.T) {
	linuxOnly(t, "containment beyond the process group (a subreaper, /proc, cgroups)")
	mptest.CheckLeaks(t)
	marker := escapeTree()
	defer killMarked(marker)
	cp, err := subprocess.Run(bg, []string{fmt.Sprintf("setsid sleep %s > /dev/null 2>&1 & echo $!", marker)}, &subprocess.Options{
		Shell: true, Stdout: subprocess.Pipe, Timeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	pid := parsePid(t, string(cp.Stdout))
	if gone(pid) {
		t.Fatalf("the background job %d is gone", pid)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	waitGone(t, pid)
}

// TestReaperLeavesOtherChildren: a process that contains its runs reaps the
// orphans that come to it, but never a child that other code waits for:
// os/exec still gets every exit status.
func TestReaperLeavesOtherChildren(t *testing.T) {
	linuxOnly(t, "containment beyond the process group (a subreaper, /proc, cgroups)")
	mptest.CheckLeaks(t)
	// Make this process contain, and keep orphans arriving meanwhile.
	marker := escapeTree()
	defer killMarked(marker)
	orphans := start(t, bg, []string{fmt.Sprintf("for i in 1 2 3 4 5 6 7 8 9 10; do (sleep 0 &) ; done; sleep %s", marker)}, &subprocess.Options{
		Shell: true, Timeout: time.Minute,
	})
	for i := range 50 {
		err := exec.Command("sh", "-c", fmt.Sprintf("exit %d", i%7+1)).Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != i%7+1 {
			t.Fatalf("run %d: %v, want exit status %d", i, err, i%7+1)
		}
	}
	orphans.Kill()
	orphans.Wait(bg)
}

// runCgroup runs script under ContainCgroup, or skips t where this process
// has no cgroup v2 of its own to create one under.
func runCgroup(t *testing.T, script string, opts subprocess.Options) (*subprocess.CompletedProcess, error) {
	t.Helper()
	opts.Shell, opts.Contain = true, subprocess.ContainCgroup
	cp, err := subprocess.Run(bg, []string{script}, &opts)
	if errors.Is(err, subprocess.ErrNoCgroup) {
		t.Skipf("ContainCgroup is not available here: %v", err)
	}
	return cp, err
}

// TestContainCgroup: under ContainCgroup a timeout stops every process the
// child started, even one that left the group and dropped the marker
// ContainSubreaper relies on (env -i).
func TestContainCgroup(t *testing.T) {
	linuxOnly(t, "containment beyond the process group (a subreaper, /proc, cgroups)")
	mptest.CheckLeaks(t)
	trees := append(escapes, struct{ name, script string }{
		"setsid with a clean environment", "( setsid env -i sleep %[1]s & ) ; sleep %[1]s",
	})
	for _, tc := range trees {
		t.Run(tc.name, func(t *testing.T) {
			marker := escapeTree()
			defer killMarked(marker)
			_, err := runCgroup(t, fmt.Sprintf(tc.script, marker), subprocess.Options{Timeout: 200 * time.Millisecond})
			if !errors.Is(err, subprocess.ErrTimeout) {
				t.Fatalf("Run() = %v, want a timeout", err)
			}
			checkContained(t, marker)
		})
	}
}

// TestContainCgroupNormalEnd: under ContainCgroup the run is one unit:
// when the child exits by itself, what it left in the background is
// killed, and the cgroup is removed before Run returns.
func TestContainCgroupNormalEnd(t *testing.T) {
	linuxOnly(t, "containment beyond the process group (a subreaper, /proc, cgroups)")
	mptest.CheckLeaks(t)
	marker := escapeTree()
	defer killMarked(marker)
	cp, err := runCgroup(t, fmt.Sprintf("( setsid sleep %s & ) ; grep ^0:: /proc/self/cgroup", marker), subprocess.Options{Stdout: subprocess.Pipe})
	if err != nil || cp.ReturnCode != 0 {
		t.Fatalf("Run() = %+v, %v", cp, err)
	}
	checkContained(t, marker)
	dir := cgroupDir(t, string(cp.Stdout))
	if !strings.Contains(filepath.Base(dir), "mp-subprocess-") {
		t.Fatalf("the child ran in %s, not a cgroup of its own", dir)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("cgroup %s is still there: %v", dir, err)
	}
}

// TestContainSubreaperMissesCleanEnvironment shows the limit that
// ContainSubreaper's documentation states: a descendant that left the
// group and runs with an environment that lacks the marker is not found.
func TestContainSubreaperMissesCleanEnvironment(t *testing.T) {
	linuxOnly(t, "containment beyond the process group (a subreaper, /proc, cgroups)")
	mptest.CheckLeaks(t)
	marker := escapeTree()
	defer killMarked(marker)
	_, err := subprocess.Run(bg, []string{fmt.Sprintf("( setsid env -i sleep %[1]s & ) ; sleep %[1]s", marker)}, &subprocess.Options{
		Shell: true, Timeout: 200 * time.Millisecond,
	})
	if !errors.Is(err, subprocess.ErrTimeout) {
		t.Fatalf("Run() = %v, want a timeout", err)
	}
	pids := markedPids(marker)
	if len(pids) != 1 || gone(pids[0]) {
		t.Fatalf("left running: %v, want the one sleep without the marker", marked(marker))
	}
	syscall.Kill(pids[0], syscall.SIGKILL)
	waitGone(t, pids[0])
}

// cgroupDir returns the directory of the cgroup v2 that a line of
// /proc/<pid>/cgroup ("0::/path") names.
func cgroupDir(t *testing.T, procCgroup string) string {
	t.Helper()
	path, ok := strings.CutPrefix(strings.TrimSpace(procCgroup), "0::")
	if !ok {
		t.Fatalf("no cgroup v2 in %q", procCgroup)
	}
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(info), "\n") {
		if f := strings.Fields(line); len(f) > 9 && strings.Contains(line, " - cgroup2 ") {
			return filepath.Join(f[4], strings.TrimPrefix(path, f[3]))
		}
	}
	t.Fatal("no cgroup2 mount")
	return ""
}

// BenchmarkRunContain: the cost of each containment for a child that may
// be stopped and is not (`true` with a timeout of a minute).
func BenchmarkRunContain(b *testing.B) {
	for _, bc := range []struct {
		name    string
		contain subprocess.Contain
	}{
		{"group", subprocess.ContainGroup},
		{"subreaper", subprocess.ContainSubreaper},
		{"cgroup", subprocess.ContainCgroup},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := &subprocess.Options{Timeout: time.Minute, Contain: bc.contain}
			for b.Loop() {
				if _, err := subprocess.Run(bg, []string{"true"}, opts); err != nil {
					if errors.Is(err, subprocess.ErrNoCgroup) {
						b.Skip(err)
					}
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMarkerNests: under ContainSubreaper the child's environment carries
// its run's token after those of the runs it descends from, so that a stop
// of an outer run still finds the processes of an inner one; a child that
// nothing may stop gets no marker.
func TestMarkerNests(t *testing.T) {
	linuxOnly(t, "containment beyond the process group (a subreaper, /proc, cgroups)")
	mptest.CheckLeaks(t)
	opts := &subprocess.Options{
		Env: []string{"MP_SUBPROCESS_RUN=outer.1"}, Stdout: subprocess.Pipe, Timeout: time.Minute,
	}
	cp, err := subprocess.Run(bg, []string{"/usr/bin/printenv", "MP_SUBPROCESS_RUN"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tokens := strings.Fields(string(cp.Stdout))
	if len(tokens) != 2 || tokens[0] != "outer.1" || !strings.HasPrefix(tokens[1], strconv.Itoa(os.Getpid())+".") {
		t.Errorf("MP_SUBPROCESS_RUN = %q, want outer.1 and a token of this process", cp.Stdout)
	}
	opts.Timeout, opts.Env = 0, []string{}
	cp, err = subprocess.Run(bg, []string{"/usr/bin/printenv", "MP_SUBPROCESS_RUN"}, opts)
	if err != nil || cp.ReturnCode != 1 || len(cp.Stdout) != 0 {
		t.Errorf("without a timeout: %q, %v; want no MP_SUBPROCESS_RUN", cp.Stdout, err)
	}
}

// TestGraceReachesEscapees: with a grace period, a descendant that left the
// group gets SIGTERM too and may clean up; the grace period ends once
// every process the stop reaches has exited.
func TestGraceReachesEscapees(t *testing.T) {
	linuxOnly(t, "containment beyond the process group (a subreaper, /proc, cgroups)")
	mptest.CheckLeaks(t)
	for _, tc := range []struct {
		name    string
		contain subprocess.Contain
	}{{"subreaper", subprocess.ContainSubreaper}, {"cgroup", subprocess.ContainCgroup}} {
		t.Run(tc.name, func(t *testing.T) {
			marker := escapeTree()
			defer killMarked(marker)
			file := filepath.Join(t.TempDir(), "cleaned")
			// The escaped shell traps SIGTERM; its child says it is ready
			// once it runs without the trap (a signal that reaches a child
			// between fork and exec may be taken by the parent's handler).
			escapee := fmt.Sprintf(`trap "echo cleaned > %s; exit 0" TERM; sh -c "echo ready; exec sleep %s" & wait`, file, marker)
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			p, err := subprocess.Start(ctx, []string{fmt.Sprintf("( setsid sh -c '%s' & ) ; sleep %s", escapee, marker)}, &subprocess.Options{
				Shell: true, Stdout: subprocess.Pipe, Grace: time.Minute, Contain: tc.contain,
			})
			if errors.Is(err, subprocess.ErrNoCgroup) {
				t.Skipf("ContainCgroup is not available here: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			// Stop the tree once the escaped process has set its trap.
			if line, err := bufio.NewReader(p.Stdout).ReadString('\n'); line != "ready\n" {
				t.Fatalf("read %q, %v; want ready", line, err)
			}
			started := time.Now()
			cancel()
			if _, err := p.Wait(bg); !errors.Is(err, context.Canceled) {
				t.Fatalf("Wait() = %v, want context.Canceled", err)
			}
			if d := time.Since(started); d > promptly {
				t.Errorf("returned after %v; the grace period should end when every process has", d)
			}
			if data, err := os.ReadFile(file); string(data) != "cleaned\n" {
				t.Errorf("the escaped process did not clean up: %q, %v", data, err)
			}
			checkContained(t, marker)
		})
	}
}
