//go:build linux && !mpportable

package memfile

import (
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

func seals(g Guard) int {
	s := 0
	if g&FixedSize != 0 {
		s |= unix.F_SEAL_SHRINK | unix.F_SEAL_GROW
	}
	if g&FixedBytes != 0 {
		s |= unix.F_SEAL_WRITE
	}
	return s
}

// Seal makes fd, made by Create, keep g for good: the seals of g and
// F_SEAL_SEAL. FixedBytes fails while a writable shared mapping of fd
// exists.
func Seal(fd int, g Guard) error {
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals(g)|unix.F_SEAL_SEAL); err != nil {
		return fmt.Errorf("mp: seal shared memory: %w", err)
	}
	return nil
}

// Check returns the size of fd, received from another process, if it is a
// file made by Create and sealed with g; otherwise errs.ErrNotSealed.
func Check(fd int, g Guard) (int64, error) {
	want := seals(g)
	got, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil || got&want != want {
		return 0, errs.ErrNotSealed
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, fmt.Errorf("mp: stat shared memory: %w", err)
	}
	return st.Size, nil
}
