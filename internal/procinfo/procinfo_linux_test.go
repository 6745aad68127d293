package procinfo

import (
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// TestZombie waits for a child to end without collecting it (WNOWAIT), so
// that it is a zombie, and reads it as one.
func TestZombie(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	var si unix.Siginfo
	if err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &si, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	info, err := Read(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if info.Alive() || info.State != Zombie {
		t.Fatalf("ended, uncollected child: %+v, want a zombie", info)
	}
}

func TestParseStat(t *testing.T) {
	line := []byte("4242 (a (strange) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10")
	info, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	want := Info{State: Running, Parent: 1, Group: 4242, Start: 987654}
	if info != want {
		t.Fatalf("parsed %+v, want %+v", info, want)
	}
	for _, bad := range []string{"", "1 (x", "1 (x) S 1", "1 (x) SS 1 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5", "1 (x) S a 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("1 (init) S 0 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 5 1000 10"))
	f.Add([]byte("7 ()) Z 1 7 7"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := parseStat(data)
		if err == nil && info.State != Running && info.State != Zombie && info.State != Stopped {
			t.Fatalf("state %q", info.State)
		}
	})
}
