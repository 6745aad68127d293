//go:build linux && !mpportable

package transport

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// spillRegion is address space for the part of a large datagram beyond a
// Conn's small receive buffer. It is mapped without backing: only a large
// message touches its pages, and they are given back lazily after use, so a
// Conn that receives only small messages costs no memory for it.
type spillRegion struct {
	mem []byte
}

func newSpillRegion(size int) (*spillRegion, error) {
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("mp: map a receive buffer: %w", err)
	}
	return &spillRegion{mem: mem}, nil
}

// release tells the kernel the first n bytes may be reclaimed when memory
// is short; reusing them before that costs nothing. MADV_FREE exists on
// Linux (4.5 and later), macOS and FreeBSD; it is a hint, and an error
// (an older kernel) only keeps the pages.
func (s *spillRegion) release(n int) {
	page := unix.Getpagesize()
	n = (n + page - 1) / page * page
	unix.Madvise(s.mem[:min(n, len(s.mem))], unix.MADV_FREE)
}

func (s *spillRegion) unmap() { unix.Munmap(s.mem) }
