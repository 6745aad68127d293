package procinfo_test

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/mpgo/mp/internal/procinfo"
)

func TestReadSelf(t *testing.T) {
	if !procinfo.Available {
		t.Skip("this system has no process table mp can read")
	}
	a, err := procinfo.Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !a.Alive() || a.State != procinfo.Running {
		t.Errorf("state %q, want running", a.State)
	}
	if a.Parent != os.Getppid() {
		t.Errorf("parent %d, want %d", a.Parent, os.Getppid())
	}
	if pgrp, _ := getpgid(); a.Group != pgrp {
		t.Errorf("group %d, want %d", a.Group, pgrp)
	}
	b, err := procinfo.Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if a.Start == 0 || a.Start != b.Start {
		t.Errorf("start times %d and %d: want one non-zero value", a.Start, b.Start)
	}
}

func TestReadNoProcess(t *testing.T) {
	if !procinfo.Available {
		t.Skip("this system has no process table mp can read")
	}
	for _, pid := range []int{0, -1, 1 << 30} {
		if _, err := procinfo.Read(pid); !errors.Is(err, procinfo.ErrNoProcess) {
			t.Errorf("Read(%d): %v, want ErrNoProcess", pid, err)
		}
	}
}

// TestChildren starts a child that lives until its stdin closes, and finds
// it among this process's children, with a start time of its own.
func TestChildren(t *testing.T) {
	if !procinfo.Available {
		t.Skip("this system has no process table mp can read")
	}
	cmd := exec.Command("cat")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	kids, err := procinfo.Children(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(kids, cmd.Process.Pid) {
		t.Fatalf("children %v lack %d", kids, cmd.Process.Pid)
	}
	info, err := procinfo.Read(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	self, _ := procinfo.Read(os.Getpid())
	if info.Parent != os.Getpid() || !info.Alive() || info.Start == 0 {
		t.Errorf("child: %+v", info)
	}
	if info.Start < self.Start {
		t.Errorf("child started at %d, before its parent (%d)", info.Start, self.Start)
	}
}
