package proc

import "golang.org/x/sys/unix"

// fionread is the ioctl that tells how many bytes a pipe holds: FIONREAD,
// which x/sys calls TIOCINQ on Linux.
const fionread = unix.TIOCINQ
