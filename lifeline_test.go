package mp_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/procinfo"
	"github.com/mpgo/mp/mptest"
)

var (
	// middle starts a grandchild and sleeps.
	middle = mp.Register("test.middle", func(ctx context.Context, daemon bool) (struct{}, error) {
		g := mp.Command(announce, struct{}{})
		g.Daemon = daemon
		if err := g.Start(); err != nil {
			return struct{}{}, err
		}
		time.Sleep(time.Hour)
		return struct{}{}, nil
	})
	// announce prints its pid, once it runs, and sleeps ignoring its context.
	announce = mp.Register("test.announce", func(ctx context.Context, _ struct{}) (struct{}, error) {
		os.Stdout.WriteString("grandchild " + strconv.Itoa(os.Getpid()) + "\n")
		time.Sleep(time.Hour)
		return struct{}{}, nil
	})
)

// gone reports whether pid has exited (a zombie has).
func gone(pid int) bool {
	info, err := procinfo.Read(pid)
	return err != nil || !info.Alive()
}

func TestNoOrphanAfterParentSIGKILL(t *testing.T) {
	mptest.CheckLeaks(t)
	for _, daemon := range []bool{true, false} {
		t.Run("daemon="+strconv.FormatBool(daemon), func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			p := mp.Command(middle, daemon)
			p.Stdout = pw
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			line, err := bufio.NewReader(pr).ReadString('\n')
			if err != nil {
				t.Fatalf("reading the grandchild's pid: %v", err)
			}
			gpid, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "grandchild ")))
			if gpid == 0 || gone(gpid) {
				t.Fatalf("no live grandchild: %q", line)
			}
			killed := time.Now()
			p.Kill()
			p.Wait(context.Background())
			defer func() { t.Logf("grandchild %d gone %v after its parent was killed", gpid, time.Since(killed)) }()
			deadline := killed.Add(time.Second)
			for !gone(gpid) {
				if time.Now().After(deadline) {
					syscall.Kill(gpid, syscall.SIGKILL)
					t.Fatalf("grandchild %d outlived its SIGKILLed parent by more than a second", gpid)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestChildRunByHand(t *testing.T) {
	for marker, want := range map[string]string{
		"v1,fd=3":  "not meant to be run by hand",
		"v99,fd=3": "different builds",
		"garbage":  "not meant to be run by hand",
	} {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "_MP_CHILD="+marker)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("marker %q: exit %v, want code 2", marker, err)
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("marker %q: output %q lacks %q", marker, out, want)
		}
	}
}

func TestProgramWithoutMain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	bin := filepath.Join(t.TempDir(), "nomain")
	build := exec.Command("go", "build", "-o", bin, "./testdata/nomain")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, mode := range []string{"spawn", "forkserver"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, bin, mode).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("nomain %s: %v\n%s", mode, err, out)
		}
		if !strings.Contains(string(out), "never called mp.Main()") {
			t.Errorf("nomain %s: output lacks the stray child's message:\n%s", mode, out)
		}
		if mode == "spawn" && !strings.Contains(string(out), "never reached mp.Main()") {
			t.Errorf("nomain %s: output lacks the parent's report:\n%s", mode, out)
		}
		// No process of the program is left: a stray child never starts
		// children of its own.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			left := processesOf(bin)
			if len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("nomain %s: processes %v still run", mode, left)
			}
		}
	}
}

// processesOf returns the pids of the live processes running the program
// bin. Linux names a process's executable in /proc/<pid>/exe; elsewhere the
// process table has the executable's name (which no mp process changes
// there), and bin's name is unlike any other program's.
func processesOf(bin string) []int {
	all, _ := procinfo.List()
	var pids []int
	for _, pid := range all {
		var runs bool
		if runtime.GOOS == "linux" {
			exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
			runs = err == nil && exe == bin
		} else {
			d, err := procinfo.Describe(pid)
			runs = err == nil && d.Name == filepath.Base(bin) && d.Letter != 'Z'
		}
		if runs {
			pids = append(pids, pid)
		}
	}
	return pids
}
