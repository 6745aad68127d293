//go:build !darwin

package descr

import "golang.org/x/sys/unix"

// RecvCloexec is the recvmsg flag that makes received descriptors
// close-on-exec as the kernel installs them (Linux, FreeBSD).
const RecvCloexec = unix.MSG_CMSG_CLOEXEC
