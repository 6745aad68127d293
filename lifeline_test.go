package mp_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
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
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(data), ')')
	return i < 0 || strings.HasPrefix(string(data[i+1:]), " Z")
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin).CombinedOutput()
	if err != nil {
		t.Fatalf("nomain: %v\n%s", err, out)
	}
	for _, want := range []string{"never called mp.Main()", "never reached mp.Main()"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
