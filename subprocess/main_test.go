package subprocess_test

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/procinfo"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

// bg is the context of tests that have no deadline of their own.
var bg = context.Background()

// gone reports whether pid has ended: it no longer exists, or is a zombie
// waiting for a parent that is not this process.
func gone(pid int) bool {
	info, err := procinfo.Read(pid)
	return errors.Is(err, procinfo.ErrNoProcess) || err == nil && !info.Alive()
}

// linuxOnly skips a test of what only Linux offers.
func linuxOnly(t *testing.T, what string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip(what + " needs Linux")
	}
}

// waitGone fails t unless pid ends within a few seconds.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !gone(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d is still running", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// parsePid reads a pid printed on a line of its own.
func parsePid(t *testing.T, line string) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		t.Fatalf("no pid in %q", line)
	}
	return pid
}

// ignored reports whether this process ignores sig, which its children
// would then inherit. Only Linux tells (in /proc): elsewhere it reports
// false.
func ignored(sig syscall.Signal) bool {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			mask, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return mask&(1<<(uint(sig)-1)) != 0
		}
	}
	return false
}
