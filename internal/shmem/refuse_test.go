package shmem

import (
	"errors"
	"os"
	"testing"

	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

func mustDup(t *testing.T, fd int) int {
	t.Helper()
	d, err := unix.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// FromFD refuses, with errs.ErrNotSealed, every descriptor that is not
// shared memory made by Create, on every mechanism set: mapping it could
// block, or fault when its owner shrinks it.
func TestFromFDRefusesOtherFiles(t *testing.T) {
	p := make([]int, 2)
	if err := unix.Pipe(p); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[1])
	s, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(s[1])
	f, err := os.CreateTemp(t.TempDir(), "named")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Truncate(4096)
	for name, fd := range map[string]int{"pipe": p[0], "socket": s[0], "named file": mustDup(t, int(f.Fd()))} {
		if r, err := FromFD(fd); !errors.Is(err, errs.ErrNotSealed) {
			if r != nil {
				r.Close()
			}
			t.Errorf("FromFD of a %s = %v, want errs.ErrNotSealed", name, err)
		}
	}
}
