package shmem

import (
	"errors"
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

func TestFromFDRefusesUnsealed(t *testing.T) {
	fd, err := unix.MemfdCreate("unsealed", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	unix.Ftruncate(fd, 4096)
	if _, err := FromFD(fd); !errors.Is(err, errs.ErrNotSealed) {
		t.Fatalf("FromFD of an unsealed memfd = %v, want errs.ErrNotSealed", err)
	}
}
