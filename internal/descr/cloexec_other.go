//go:build !darwin

package descr

import "golang.org/x/sys/unix"

// recvCloexec is the recvmsg flag that makes received descriptors
// close-on-exec as the kernel installs them (Linux, FreeBSD).
const recvCloexec = unix.MSG_CMSG_CLOEXEC
