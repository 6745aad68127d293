//go:build linux && !mpportable

package futex

import (
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// waitv is the kernel's struct futex_waitv.
type waitv struct {
	val      uint64
	uaddr    uint64
	flags    uint32
	reserved uint32
}

const flagSize32 = 0x02 // FUTEX2_SIZE_U32, without FUTEX2_PRIVATE: as Wait

func canWaitAny() bool {
	// No words at all is invalid where the call exists.
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX_WAITV, 0, 0, 0, 0, 0, 0)
	return errno == unix.EINVAL
}

// waitAny is futex_waitv over two to four words.
func waitAny(ws []Word, timeout time.Duration) error {
	var vs [maxWords]waitv
	for i, w := range ws {
		vs[i] = waitv{val: uint64(w.Val), uaddr: uint64(uintptr(unsafe.Pointer(w.Addr))), flags: flagSize32}
	}
	var tsp unsafe.Pointer
	var ts unix.Timespec
	if timeout >= 0 {
		// futex_waitv takes an absolute time.
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			return err
		}
		ts = unix.NsecToTimespec(ts.Nano() + int64(timeout))
		tsp = unsafe.Pointer(&ts)
	}
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX_WAITV, uintptr(unsafe.Pointer(&vs[0])), uintptr(len(ws)), 0,
		uintptr(tsp), unix.CLOCK_MONOTONIC, 0)
	for _, w := range ws {
		runtime.KeepAlive(w.Addr)
	}
	if errno == unix.ENOSYS || errno == unix.EPERM {
		return unix.ENOSYS
	}
	return nil
}
