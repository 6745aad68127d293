package procinfo_test

import (
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/procinfo"
)

// TestDescribeChild finds a sleeping child described by its command name
// and the letter S, once the child has gone to sleep.
func TestDescribeChild(t *testing.T) {
	if !procinfo.Available {
		t.Skip("this system has no process table mp can read")
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var d procinfo.Description
	// Nothing announces that the child has gone to sleep: ask until it has.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var err error
		if d, err = procinfo.Describe(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
		if d.Letter == 'S' || time.Now().After(deadline) {
			break
		}
	}
	if d.Name != "sleep" || d.Letter != 'S' {
		t.Errorf("sleeping child described as %q state %c, want \"sleep\" state S", d.Name, d.Letter)
	}
}

func TestDescribeNoProcess(t *testing.T) {
	if !procinfo.Available {
		t.Skip("this system has no process table mp can read")
	}
	for _, pid := range []int{0, -1, 1 << 30} {
		if _, err := procinfo.Describe(pid); !errors.Is(err, procinfo.ErrNoProcess) {
			t.Errorf("Describe(%d): %v, want ErrNoProcess", pid, err)
		}
	}
}

func TestDescribeSelf(t *testing.T) {
	if !procinfo.Available {
		t.Skip("this system has no process table mp can read")
	}
	d, err := procinfo.Describe(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d.Name == "" || d.Letter == 'Z' || d.Letter == 'T' {
		t.Errorf("this process described as %q state %c", d.Name, d.Letter)
	}
}
