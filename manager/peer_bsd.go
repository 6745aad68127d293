//go:build darwin || freebsd

package manager

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// unixPeer describes the process at the other end of the Unix socket fd:
// its uid (LOCAL_PEERCRED, unix(4)), which gives no pid.
func unixPeer(fd int) string {
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return "unix"
	}
	return fmt.Sprintf("unix uid %d", cred.Uid)
}
