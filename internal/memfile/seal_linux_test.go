//go:build linux && !mpportable

package memfile_test

import (
	"errors"
	"testing"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/memfile"
	"golang.org/x/sys/unix"
)

// On Linux a memfd without the seals the receiver relies on is refused.
func TestCheckRefusesUnsealed(t *testing.T) {
	fd, err := unix.MemfdCreate("unsealed", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	unix.Ftruncate(fd, 4096)
	wantRefused(t, "memfd without seals", fd)
	if err := memfile.Seal(fd, memfile.FixedSize); err != nil {
		t.Fatal(err)
	}
	if _, err := memfile.Check(fd, memfile.FixedSize); err != nil {
		t.Fatalf("Check of a sealed memfd = %v", err)
	}
	if _, err := memfile.Check(fd, memfile.FixedSize|memfile.FixedBytes); !errors.Is(err, errs.ErrNotSealed) {
		t.Fatalf("Check for fixed bytes of a memfd sealed for size only = %v, want errs.ErrNotSealed", err)
	}
}
