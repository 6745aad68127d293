package mptest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/memfile"
	"github.com/mpgo/mp/internal/procinfo"
	"github.com/mpgo/mp/internal/shmhome"
	"github.com/mpgo/mp/mptest"
	"github.com/mpgo/mp/shm"
)

// recorder is a testing.TB that keeps what CheckLeaks reports instead of
// failing the real test, and runs its cleanups when told to.
type recorder struct {
	testing.TB // the real test, for everything not overridden
	errors     []string
	cleanups   []func()
}

func (r *recorder) Helper()          {}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// endTest runs the cleanups, last registered first, as the testing
// package does when a test ends.
func (r *recorder) endTest() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
}

// checkFakeTest runs CheckLeaks around leak, a fake test that leaves
// something behind, and returns what CheckLeaks reported. It keeps the
// settling time short, since the leak is on purpose.
func checkFakeTest(t *testing.T, leak func()) string {
	t.Helper()
	defer mptest.SetSettle(200 * time.Millisecond)()
	r := &recorder{TB: t}
	mptest.CheckLeaks(r)
	leak()
	r.endTest()
	return strings.Join(r.errors, "\n")
}

// wantReport checks that report is a CheckLeaks failure with each of wants.
func wantReport(t *testing.T, report string, wants ...string) {
	t.Helper()
	if !strings.HasPrefix(report, "mptest: left behind after the test:") {
		t.Fatalf("CheckLeaks reported %q, want a leak report", report)
	}
	for _, w := range wants {
		if !strings.Contains(report, w) {
			t.Errorf("report lacks %q:\n%s", w, report)
		}
	}
}

func TestCheckLeaksCleanTest(t *testing.T) {
	mptest.CheckLeaks(t)
	report := checkFakeTest(t, func() {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		done := make(chan struct{})
		go func() { close(done) }()
		<-done
	})
	if report != "" {
		t.Errorf("CheckLeaks reported a test that left nothing behind:\n%s", report)
	}
}

func TestCheckLeaksWaitsForWindingDown(t *testing.T) {
	mptest.CheckLeaks(t)
	done := make(chan struct{})
	report := checkFakeTest(t, func() {
		// Still running when the test ends, but gone well within the
		// settling time.
		go func() {
			time.Sleep(20 * time.Millisecond)
			close(done)
		}()
	})
	<-done
	if report != "" {
		t.Errorf("CheckLeaks reported a goroutine that ended in time:\n%s", report)
	}
}

// leakedGoroutine blocks until its channel is closed; the report must name it.
func leakedGoroutine(stop chan struct{}) { <-stop }

func TestCheckLeaksGoroutine(t *testing.T) {
	mptest.CheckLeaks(t)
	stop := make(chan struct{})
	done := make(chan struct{})
	report := checkFakeTest(t, func() {
		go func() {
			defer close(done)
			leakedGoroutine(stop)
		}()
	})
	close(stop)
	<-done
	wantReport(t, report, "goroutine ", "mptest_test.leakedGoroutine")
}

func TestCheckLeaksFD(t *testing.T) {
	mptest.CheckLeaks(t)
	var f *os.File
	report := checkFakeTest(t, func() {
		var err error
		if f, err = os.Open(os.DevNull); err != nil {
			t.Fatal(err)
		}
	})
	fd := f.Fd()
	f.Close()
	wantReport(t, report, fmt.Sprintf("file descriptor %d -> %s", fd, os.DevNull))
}

func TestCheckLeaksSharedMemory(t *testing.T) {
	mptest.CheckLeaks(t)
	path := filepath.Join(shmDir(t), fmt.Sprintf("mptest-leak-%d", os.Getpid()))
	var f *os.File
	report := checkFakeTest(t, func() {
		var err error
		if f, err = os.Create(path); err != nil {
			t.Skip("no /dev/shm:", err)
		}
	})
	f.Close()
	os.Remove(path)
	wantReport(t, report, "shared memory: "+path)
}

func TestCheckLeaksSegment(t *testing.T) {
	// The first Create of the process starts the tracker that removes the
	// segments of a crashed creator; it lives as long as this process, and
	// starting it inside a checked test must not count as a leak.
	mptest.CheckLeaks(t)
	var seg *shm.Segment
	report := checkFakeTest(t, func() {
		var err error
		if seg, err = shm.Create("", 4096); err != nil {
			t.Fatal(err)
		}
		seg.Close() // closed, but never unlinked
	})
	seg.Unlink()
	wantReport(t, report, "shared memory: "+filepath.Join(shmhome.Dir(), seg.Name()))
}

// A name that a creator of anonymous memory killed before it unlinked it
// left behind is reported.
func TestCheckLeaksScratchLeftover(t *testing.T) {
	mptest.CheckLeaks(t)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(memfile.ScratchDir(), fmt.Sprintf("%s%d-00-test", memfile.ScratchPrefix, gone.Process.Pid))
	report := checkFakeTest(t, func() {
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	})
	os.Remove(path)
	wantReport(t, report, "shared memory: "+path)
}

func TestCheckLeaksChildProcess(t *testing.T) {
	mptest.CheckLeaks(t)
	cmd := exec.Command("sleep", "60")
	report := checkFakeTest(t, func() {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	})
	cmd.Process.Kill()
	cmd.Wait()
	wantReport(t, report, fmt.Sprintf("child process: %d (sleep) state S", cmd.Process.Pid))
}

func TestCheckLeaksZombie(t *testing.T) {
	mptest.CheckLeaks(t)
	cmd := exec.Command("true")
	report := checkFakeTest(t, func() {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitZombie(t, cmd.Process.Pid)
	})
	cmd.Wait()
	wantReport(t, report, fmt.Sprintf("child process: %d (true) state Z", cmd.Process.Pid))
}

// waitZombie waits until process pid has exited and not been reaped.
func waitZombie(t *testing.T, pid int) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if info, err := procinfo.Read(pid); err == nil && info.State == procinfo.Zombie {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("process %d did not become a zombie", pid)
}

var sleeper = mp.Register("mptest_test.sleeper", func(ctx context.Context, d time.Duration) (struct{}, error) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
	return struct{}{}, nil
})

func TestCheckLeaksMPProcess(t *testing.T) {
	mptest.CheckLeaks(t)
	p := mp.Command(sleeper, time.Minute)
	report := checkFakeTest(t, func() {
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
	})
	p.Kill()
	p.Wait(context.Background())
	p.Close()
	wantReport(t, report, fmt.Sprintf("child process: %d (", p.Pid()))
}

// shmDir returns the directory of named shared memory (/dev/shm on Linux).
func shmDir(t *testing.T) string {
	dir, err := shmhome.Make()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCheckLeaksSharedMemoryOfAnotherProgram checks that a /dev/shm entry
// that appears during the test but is held by a process outside this
// process's tree (another test binary running at the same time, say) is not
// reported.
func TestCheckLeaksSharedMemoryOfAnotherProgram(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux shows what another process holds open (in /proc)")
	}
	mptest.CheckLeaks(t)
	path := filepath.Join(shmDir(t), fmt.Sprintf("mptest-other-%d", os.Getpid()))
	var holder int
	report := checkFakeTest(t, func() {
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Skip("no /dev/shm:", err)
		}
		// sh starts a holder in the background and exits: the holder is
		// adopted by another process and so is no longer in this tree.
		out, err := exec.Command("sh", "-c", `sleep 60 3<"$1" >/dev/null 2>&1 & echo $!`, "sh", path).Output()
		if err != nil {
			t.Fatal(err)
		}
		holder, _ = strconv.Atoi(strings.TrimSpace(string(out)))
		waitHolding(t, holder, path)
	})
	if p, err := os.FindProcess(holder); err == nil && holder > 0 {
		p.Kill()
	}
	os.Remove(path)
	if strings.Contains(report, path) {
		t.Errorf("CheckLeaks reported another program's segment:\n%s", report)
	}
}

// waitHolding waits until process pid has path open as its descriptor 3,
// which /proc shows.
func waitHolding(t *testing.T, pid int, path string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/3", pid)); err == nil && target == path {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("process %d did not open %s", pid, path)
}
