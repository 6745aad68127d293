package transport

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// writeMemfd returns a memfd holding p.
func writeMemfd(p []byte) (int, error) {
	fd, err := unix.MemfdCreate("mp-message", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, fmt.Errorf("mp: memfd for a large message: %w", err)
	}
	for off := 0; off < len(p); {
		n, err := unix.Pwrite(fd, p[off:], int64(off))
		if err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("mp: write a large message to memfd: %w", err)
		}
		off += n
	}
	// Sealed, the receiver can trust the size it is told.
	unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE|unix.F_SEAL_SEAL)
	return fd, nil
}

// readMemfd reads size bytes from the start of fd, and closes fd.
func readMemfd(fd int, size int) ([]byte, error) {
	defer unix.Close(fd)
	// Only a memfd sealed against shrinking and writing is read: any other
	// descriptor (a file on a slow or hostile mount, a pipe) could block the
	// receive or change under it.
	const want = unix.F_SEAL_SHRINK | unix.F_SEAL_WRITE
	if seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0); err != nil || seals&want != want {
		return nil, protoErr("large message not in a sealed memfd")
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("mp: large message: %w", err)
	}
	if st.Size < int64(size) {
		return nil, protoErr("large message shorter than announced")
	}
	buf := make([]byte, size)
	for off := 0; off < size; {
		n, err := unix.Pread(fd, buf[off:], int64(off))
		if err != nil {
			return nil, fmt.Errorf("mp: read a large message: %w", err)
		}
		if n == 0 {
			return nil, protoErr("large message shorter than announced")
		}
		off += n
	}
	return buf, nil
}
