package descr

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Recvmsg is unix.Recvmsg, whose received descriptors are close-on-exec
// before any fork+exec of this program's can copy them.
//
// Where the system has MSG_CMSG_CLOEXEC (Linux, FreeBSD) the kernel marks
// them as it installs them. macOS has no such flag: they are marked after
// the receive, and syscall.ForkLock, held for reading over both, keeps Go's
// own fork+exec (os/exec, syscall.ForkExec: mp's children and subprocess's
// programs) out of the window in between. A fork from C, which takes no
// such lock, could still copy them there. The marking runs on every system,
// so that the macOS path is the one tested.
func Recvmsg(fd int, p, oob []byte, flags int) (n, oobn, recvflags int, err error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	n, oobn, recvflags, _, err = unix.Recvmsg(fd, p, oob, flags|recvCloexec)
	if err == nil && oobn > 0 {
		markCloexec(oob[:oobn])
	}
	return n, oobn, recvflags, err
}

// markCloexec makes every descriptor of the SCM_RIGHTS messages in oob
// close-on-exec; it reads what it can of a malformed control message.
func markCloexec(oob []byte) {
	msgs, _ := unix.ParseSocketControlMessage(oob)
	for i := range msgs {
		fds, _ := unix.ParseUnixRights(&msgs[i])
		for _, fd := range fds {
			unix.CloseOnExec(fd)
		}
	}
}
