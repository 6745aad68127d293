package proc

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

func TestTitleAndComm(t *testing.T) {
	prog := filepath.Base(os.Args[0])
	for _, c := range []struct {
		name, title, comm string
	}{
		{"PoolWorker-3", prog + ": mp PoolWorker-3", "PoolWorker-3"},
		{"PoolWorker-1000", prog + ": mp PoolWorker-1000", "PoolWorker-1000"},
		{"a\x00b\nc", prog + ": mp a?b?c", "a?b?c"},
		{"ééééééééé", prog + ": mp ééééééééé", "ééééééé"}, // 2 bytes each: 7 fit in 15
	} {
		if got := title(c.name); got != c.title {
			t.Errorf("title(%q) = %q, want %q", c.name, got, c.title)
		}
		if got := cutComm(printable(c.name)); got != c.comm {
			t.Errorf("comm of %q = %q, want %q", c.name, got, c.comm)
		}
	}
}

// A warm spare, whose process name is not known yet, says what it is in
// its command line, and has the program's name as its comm, not "exe".
func TestWarmSpareTitle(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the spare's command line and comm in /proc, which only Linux has")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := WarmUp(ctx, 1); err != nil { // booted: past its renaming
		t.Fatal(err)
	}
	warm.mu.Lock()
	pid := 0
	for _, c := range warm.spares {
		if isClosed(c.ready) {
			pid = c.pid
		}
	}
	warm.mu.Unlock()
	prog := filepath.Base(os.Args[0])
	cmdline, err1 := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	comm, err2 := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if got, want := string(cmdline), prog+": mp warm process\x00"; got != want {
		t.Errorf("spare's command line %q, want %q", got, want)
	}
	if got, want := string(comm), cutComm(prog)+"\n"; got != want {
		t.Errorf("spare's comm %q, want %q", got, want)
	}
}
