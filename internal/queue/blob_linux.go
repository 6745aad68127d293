package queue

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// writeBlob returns a sealed memfd holding p: a large item crosses to the
// consumer as a descriptor, and its bytes are copied once on each side.
func writeBlob(p []byte) (int, error) {
	fd, err := unix.MemfdCreate("mp-queue-item", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, fmt.Errorf("mp: memfd for a large queue item: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(len(p))); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("mp: size a large queue item: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, len(p), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("mp: map a large queue item: %w", err)
	}
	copy(mem, p)
	unix.Munmap(mem)
	// Sealed, the receiver can trust the size and that the bytes stay put.
	unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE|unix.F_SEAL_SEAL)
	return fd, nil
}

// readBlob reads size bytes from the sealed memfd fd and closes it.
func readBlob(fd int, size uint64) ([]byte, error) {
	defer unix.Close(fd)
	if size > maxBlobBytes {
		return nil, protoErr(fmt.Sprintf("large queue item of %d bytes", size))
	}
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	var st unix.Stat_t
	if err != nil || seals&unix.F_SEAL_SHRINK == 0 || unix.Fstat(fd, &st) != nil || uint64(st.Size) < size {
		return nil, protoErr("large queue item is not a sealed memfd of its size")
	}
	buf := make([]byte, size)
	if size == 0 {
		return buf, nil
	}
	mem, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mp: map a large queue item: %w", err)
	}
	copy(buf, mem)
	unix.Munmap(mem)
	return buf, nil
}
