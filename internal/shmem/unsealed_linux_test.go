//go:build linux && !mpportable

package shmem

import (
	"errors"
	"testing"

	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

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
