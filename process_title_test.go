package mp_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// procTitle returns the command line and comm of process pid.
func procTitle(t *testing.T, pid int) (cmdline, comm string) {
	t.Helper()
	dir := "/proc/" + strconv.Itoa(pid)
	cl, err1 := os.ReadFile(dir + "/cmdline")
	cm, err2 := os.ReadFile(dir + "/comm")
	if err1 != nil || err2 != nil {
		t.Fatalf("read the title of %d: %v, %v", pid, err1, err2)
	}
	return strings.TrimRight(string(cl), "\x00"), strings.TrimSuffix(string(cm), "\n")
}

var argv0 = mp.Register("test.argv0", func(context.Context, struct{}) (string, error) { return os.Args[0], nil })

// A child shows in ps and top as what it is: its command line names the
// program, mp and the process (a warm one, started before its name was
// known, says so), and its comm is the process's name. Its own os.Args[0]
// is the program's.
func TestChildTitles(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux lets a process set the name ps shows (its comm) and shows it in /proc")
	}
	mptest.CheckLeaks(t)
	ctx := context.Background()
	prog := filepath.Base(os.Args[0])
	for _, c := range []struct {
		method        mp.StartMethod
		name, cmdline string
	}{
		{mp.Spawn, "PoolWorker-1", prog + ": mp PoolWorker-1"},
		{mp.Forkserver, "PoolWorker-1", prog + ": mp warm process"},
	} {
		t.Run(string(c.method), func(t *testing.T) {
			p := newPool(t, mp.PoolOptions{Processes: 1, StartMethod: c.method})
			_, wpid, _ := startHang(t, ctx, p, "wait", false)
			if cmdline, comm := procTitle(t, wpid); cmdline != c.cmdline || comm != c.name {
				t.Errorf("pool worker: command line %q, comm %q; want %q, %q", cmdline, comm, c.cmdline, c.name)
			}
		})
	}
	t.Run("process", func(t *testing.T) {
		r, w, err := mp.Pipe(false)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		p := mp.Command(hangTask, hang{Conn: w, How: "wait"})
		p.Name = "a long name for a process"
		err = p.Start()
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		defer p.Wait(ctx)
		defer p.Terminate()
		var pids [2]int
		if err := r.Recv(ctx, &pids); err != nil {
			t.Fatal(err)
		}
		want := prog + ": mp a long name for a process"
		if cmdline, comm := procTitle(t, p.Pid()); cmdline != want || comm != "a long name for" {
			t.Errorf("named process: command line %q, comm %q; want %q, %q", cmdline, comm, want, "a long name for")
		}
	})
	if got, err := mp.Call(ctx, argv0, struct{}{}); got != os.Args[0] || err != nil {
		t.Errorf("os.Args[0] in a child = %q, %v; want %q", got, err, os.Args[0])
	}
}
