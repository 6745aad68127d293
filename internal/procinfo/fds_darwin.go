package procinfo

import (
	"bytes"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// OpenFDs maps each descriptor this process has open to what it refers to.
// macOS lists a process's descriptors in /dev/fd (fdesc, always mounted);
// a file's path comes from fcntl(F_GETPATH) (fcntl(2)), and anything else
// (a pipe, a socket, shared memory) is named by fstat. Should /dev/fd
// fail, every number is probed.
func OpenFDs() (map[int]string, error) {
	return listFDs("/dev/fd", func(fd int) (string, error) {
		if target, err := fdPath(fd); err == nil && target != "" {
			return target, nil
		}
		return describeByStat(fd)
	})
}

// fdPath returns the path of the file fd refers to, by fcntl(F_GETPATH)
// into a buffer of MAXPATHLEN bytes. x/sys/unix has no wrapper for
// F_GETPATH; FcntlFlock passes its pointer through to fcntl(2) unchanged,
// so it carries the buffer (of uint64s, aligned as a Flock_t must be).
func fdPath(fd int) (string, error) {
	buf := make([]uint64, 1024/8)
	err := unix.FcntlFlock(uintptr(fd), unix.F_GETPATH, (*unix.Flock_t)(unsafe.Pointer(&buf[0])))
	runtime.KeepAlive(buf)
	if err != nil {
		return "", err
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*8)
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b), nil
}
