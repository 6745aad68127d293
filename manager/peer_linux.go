package manager

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// unixPeer describes the process at the other end of the Unix socket fd:
// its pid and uid (SO_PEERCRED, unix(7)).
func unixPeer(fd int) string {
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return "unix"
	}
	return fmt.Sprintf("unix pid %d uid %d", cred.Pid, cred.Uid)
}
