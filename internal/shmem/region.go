// Package shmem maps memory shared between processes: a memfd, sized once,
// sealed against shrinking and growing, mapped MAP_SHARED. Its descriptor
// is what travels to another process, which maps the same pages.
//
// Sealing matters: a peer that could shrink the file would make every other
// process's access past the new end fault with SIGBUS. A region received
// from another process is mapped only if it carries those seals.
package shmem

import (
	"fmt"
	"unsafe"

	"github.com/mpgo/mp/internal/errs"
	_ "github.com/mpgo/mp/internal/linuxonly"
	"golang.org/x/sys/unix"
)

// PageSize is the granularity of regions.
var PageSize = unix.Getpagesize()

// Region is a mapping of shared memory and the descriptor behind it.
// Its methods are not safe to call concurrently with Close.
type Region struct {
	fd  int
	mem []byte
}

// Create returns a new zeroed region of at least size bytes (rounded up to
// a whole page), named name in /proc/self/fd listings.
func Create(name string, size int) (*Region, error) {
	if size <= 0 {
		return nil, fmt.Errorf("mp: shared memory size %d", size)
	}
	size = RoundUp(size)
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("mp: memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mp: size shared memory: %w", err)
	}
	seals := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mp: seal shared memory: %w", err)
	}
	return mapFD(fd, size)
}

// FromFD maps a region whose descriptor came from another process. It takes
// ownership of fd (closing it on error). The descriptor must be a memfd
// sealed against shrinking and growing; the region is its whole size.
func FromFD(fd int) (*Region, error) {
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil || seals&(unix.F_SEAL_SHRINK|unix.F_SEAL_GROW) != unix.F_SEAL_SHRINK|unix.F_SEAL_GROW {
		unix.Close(fd)
		return nil, errs.ErrNotSealed
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mp: stat shared memory: %w", err)
	}
	if st.Size <= 0 || st.Size > 1<<40 {
		unix.Close(fd)
		return nil, fmt.Errorf("mp: shared memory of %d bytes", st.Size)
	}
	return mapFD(fd, int(st.Size))
}

// mapFD maps size bytes of fd; it takes ownership of fd.
func mapFD(fd, size int) (*Region, error) {
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mp: map shared memory: %w", err)
	}
	return &Region{fd: fd, mem: mem}, nil
}

// RoundUp rounds size up to a whole number of pages.
func RoundUp(size int) int { return (size + PageSize - 1) &^ (PageSize - 1) }

// Bytes returns the mapped memory. It stays valid until Close.
func (r *Region) Bytes() []byte { return r.mem }

// FD returns the region's descriptor; it stays owned by the region.
func (r *Region) FD() int { return r.fd }

// At returns a pointer to the byte at off, which must leave room for n bytes
// and be aligned to align (a power of two). It panics otherwise: offsets come
// from layouts fixed in code, never from another process.
func (r *Region) At(off, n, align int) unsafe.Pointer {
	if off < 0 || n < 0 || off+n > len(r.mem) || off&(align-1) != 0 {
		panic(fmt.Sprintf("mp: shared memory access at %d+%d outside a %d-byte region", off, n, len(r.mem)))
	}
	return unsafe.Pointer(&r.mem[off])
}

// Close unmaps the region and closes its descriptor. Other processes that
// map the same memory keep it. Close is safe to call twice.
func (r *Region) Close() error {
	if r.mem == nil {
		return nil
	}
	err := unix.Munmap(r.mem)
	r.mem = nil
	if cerr := unix.Close(r.fd); err == nil {
		err = cerr
	}
	r.fd = -1
	return err
}
