//go:build !linux || mpportable

package memfile

import (
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

// Seal does nothing on the portable set: there are no seals. The package
// comment says what takes their place.
func Seal(fd int, g Guard) error { return nil }

// Check returns the size of fd, received from another process, if it is
// like a file made by Create: a regular file without a name (st_nlink 0).
// Anything else (a pipe, a socket, a device, a named file on some mount) is
// refused with errs.ErrNotSealed. g cannot be checked: see the package
// comment for what the portable set keeps of it.
func Check(fd int, g Guard) (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, fmt.Errorf("mp: stat shared memory: %w", err)
	}
	if uint32(st.Mode)&unix.S_IFMT != unix.S_IFREG || st.Nlink != 0 {
		return 0, errs.ErrNotSealed
	}
	return st.Size, nil
}
