package subprocess_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/procinfo"
	"github.com/mpgo/mp/mptest"
	"github.com/mpgo/mp/subprocess"
)

// promptly bounds how long a stop may take on a slow, busy machine. The
// sleeps it is compared with last 30 s.
const promptly = 10 * time.Second

// groupMembers lists the live processes in process group pgid.
func groupMembers(pgid int) []int {
	pids, _ := procinfo.List()
	var out []int
	for _, pid := range pids {
		if info, err := procinfo.Read(pid); err == nil && info.Alive() && info.Group == pgid {
			out = append(out, pid)
		}
	}
	return out
}

// TestTimeoutGrandchildHoldsPipe is python/cpython#81605: the shell's
// children inherit the output pipe. Run must return at the timeout, with
// the output so far, and leave none of them running (CPython 3.11 returns
// but leaves `sleep` running).
func TestTimeoutGrandchildHoldsPipe(t *testing.T) {
	mptest.CheckLeaks(t)
	started := time.Now()
	p := start(t, bg, []string{"sleep 30 & echo $!; sleep 30 | cat"}, &subprocess.Options{
		Shell: true, Stdout: subprocess.Pipe, Timeout: 300 * time.Millisecond,
	})
	out, _, err := p.Communicate(bg, nil)
	if !errors.Is(err, subprocess.ErrTimeout) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if d := time.Since(started); d > promptly {
		t.Errorf("returned after %v", d)
	}
	waitGone(t, parsePid(t, string(out)))
	if left := groupMembers(p.Pid); len(left) > 0 {
		t.Errorf("still running in the group: %v", left)
	}
}

// TestTimeoutDescendantLeftGroup: under ContainGroup, a descendant that
// escaped the group (setsid) is not killed with it, but the pipes it holds
// are cut, so Run still returns promptly.
func TestTimeoutDescendantLeftGroup(t *testing.T) {
	mptest.CheckLeaks(t)
	started := time.Now()
	cp, err := subprocess.Run(bg, []string{"setsid sleep 30 & echo $!"}, &subprocess.Options{
		Shell: true, Stdout: subprocess.Pipe, Timeout: 300 * time.Millisecond, Contain: subprocess.ContainGroup,
	})
	var te *subprocess.TimeoutExpired
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want *TimeoutExpired", err)
	}
	escaped := parsePid(t, string(te.Stdout))
	defer func() {
		syscall.Kill(escaped, syscall.SIGKILL)
		waitGone(t, escaped)
	}()
	if d := time.Since(started); d > promptly {
		t.Errorf("returned after %v", d)
	}
	if cp.ReturnCode != 0 {
		t.Errorf("ReturnCode = %d, want 0 (the shell had exited)", cp.ReturnCode)
	}
}

// TestWaitDelay is golang/go#23019 without a timeout: the child exits, a
// grandchild keeps the pipe; WaitDelay bounds the wait and says output may
// be lost.
func TestWaitDelay(t *testing.T) {
	mptest.CheckLeaks(t)
	started := time.Now()
	cp, err := subprocess.Run(bg, []string{"sleep 30 & echo $!"}, &subprocess.Options{
		Shell: true, Stdout: subprocess.Pipe, WaitDelay: 200 * time.Millisecond,
	})
	pid := parsePid(t, string(cp.Stdout))
	defer func() {
		syscall.Kill(pid, syscall.SIGKILL)
		waitGone(t, pid)
	}()
	if !errors.Is(err, subprocess.ErrWaitDelay) || cp.ReturnCode != 0 {
		t.Errorf("Run() = %d, %v; want 0, ErrWaitDelay", cp.ReturnCode, err)
	}
	if d := time.Since(started); d > promptly {
		t.Errorf("returned after %v", d)
	}
	// A pipe that closes in time is not cut.
	cp, err = subprocess.Run(bg, []string{"echo", "quick"}, &subprocess.Options{Stdout: subprocess.Pipe, WaitDelay: 200 * time.Millisecond})
	if err != nil || string(cp.Stdout) != "quick\n" {
		t.Errorf("Run(echo) = %q, %v", cp.Stdout, err)
	}
}

// TestGraceKillsWhatIgnoresTerm: a tree that ignores SIGTERM gets SIGKILL
// once the grace period is over.
func TestGraceKillsWhatIgnoresTerm(t *testing.T) {
	mptest.CheckLeaks(t)
	started := time.Now()
	grace := 300 * time.Millisecond
	cp, err := subprocess.Run(bg, []string{`trap "" TERM; sleep 30 & echo $!; wait`}, &subprocess.Options{
		Shell: true, Stdout: subprocess.Pipe, Timeout: 200 * time.Millisecond, Grace: grace,
	})
	if !errors.Is(err, subprocess.ErrTimeout) || cp.ReturnCode != -9 {
		t.Fatalf("Run() = %+v, %v; want -9 and a timeout", cp, err)
	}
	if d := time.Since(started); d < 200*time.Millisecond+grace || d > promptly {
		t.Errorf("returned after %v, want the timeout plus the grace period", d)
	}
	waitGone(t, parsePid(t, string(cp.Stdout)))
}

// TestGraceTermObeyed: a child that handles SIGTERM ends during the grace
// period, with its own status and last words.
func TestGraceTermObeyed(t *testing.T) {
	mptest.CheckLeaks(t)
	started := time.Now()
	cp, err := subprocess.Run(bg, []string{`trap 'echo cleaning up; exit 7' TERM; sleep 30 & wait`}, &subprocess.Options{
		Shell: true, Stdout: subprocess.Pipe, Timeout: 200 * time.Millisecond, Grace: time.Minute,
	})
	if !errors.Is(err, subprocess.ErrTimeout) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if cp.ReturnCode != 7 || string(cp.Stdout) != "cleaning up\n" {
		t.Errorf("Run() = %d, %q; want 7, %q", cp.ReturnCode, cp.Stdout, "cleaning up\n")
	}
	if d := time.Since(started); d > promptly {
		t.Errorf("returned after %v; the grace period should end when the child does", d)
	}
}

// TestKillGroup kills a started tree by hand.
func TestKillGroup(t *testing.T) {
	mptest.CheckLeaks(t)
	p := start(t, bg, []string{"sh", "-c", "sleep 30 & echo $!; wait"}, &subprocess.Options{
		Stdout: subprocess.Pipe, Group: subprocess.GroupNew,
	})
	line, err := bufio.NewReader(p.Stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if err := p.KillGroup(); err != nil {
		t.Fatal(err)
	}
	if code, err := p.Wait(bg); code != -9 || err != nil {
		t.Errorf("Wait() = %d, %v", code, err)
	}
	waitGone(t, parsePid(t, line))

	q := start(t, bg, []string{"true"}, &subprocess.Options{Group: subprocess.GroupParent})
	if err := q.KillGroup(); !errors.Is(err, subprocess.ErrNoGroup) {
		t.Errorf("KillGroup in the parent's group: %v, want ErrNoGroup", err)
	}
	q.Wait(bg)
}

// TestSignalsUsePidfd checks that signals to a child go through a pidfd
// here, which is what makes them immune to pid reuse (Go's os.Process
// opens one on Linux 5.4 and later).
func TestSignalsUsePidfd(t *testing.T) {
	linuxOnly(t, "pidfds")
	mptest.CheckLeaks(t)
	p := start(t, bg, []string{"sleep", "30"}, nil)
	defer p.Wait(bg)
	defer p.Kill()
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		target, _ := os.Readlink("/proc/self/fd/" + fd.Name())
		info, _ := os.ReadFile("/proc/self/fdinfo/" + fd.Name())
		if strings.Contains(target, "pidfd") && strings.Contains(string(info), fmt.Sprintf("Pid:\t%d\n", p.Pid)) {
			return
		}
	}
	t.Skip("no pidfd for the child: this kernel lacks pidfd support, and signals fall back to the pid")
}

// TestStartContextStops: Start's context bounds the process's life, as
// exec.CommandContext; Wait reports why it ended.
func TestStartContextStops(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx, cancel := context.WithCancel(bg)
	p := start(t, ctx, []string{"sleep", "30"}, nil)
	cancel()
	code, err := p.Wait(bg)
	if code != -9 || !errors.Is(err, context.Canceled) {
		t.Errorf("Wait() = %d, %v; want -9, context.Canceled", code, err)
	}
	// Ending the context after Wait changes nothing.
	ctx, cancel = context.WithCancel(bg)
	p = start(t, ctx, []string{"true"}, nil)
	if code, err := p.Wait(bg); code != 0 || err != nil {
		t.Errorf("Wait() = %d, %v", code, err)
	}
	cancel()
	if code, err := p.Wait(bg); code != 0 || err != nil {
		t.Errorf("Wait() after cancel = %d, %v", code, err)
	}
}
