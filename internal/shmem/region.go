// Package shmem maps memory shared between processes: an anonymous shared
// file (package memfile), sized once, sealed against shrinking and growing
// where the system has seals, mapped MAP_SHARED. Its descriptor is what
// travels to another process, which maps the same pages.
//
// Sealing matters: a peer that could shrink the file would make every other
// process's access past the new end fault with SIGBUS. On Linux a region
// received from another process is mapped only if it carries those seals;
// on the portable set, only if it is an unnamed regular file, and its
// holders are trusted not to resize it (see package memfile).
package shmem

import (
	"fmt"
	"unsafe"

	"github.com/mpgo/mp/internal/memfile"
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
// a whole page), labelled name where the system shows such labels.
func Create(name string, size int) (*Region, error) {
	if size <= 0 {
		return nil, fmt.Errorf("mp: shared memory size %d", size)
	}
	size = RoundUp(size)
	fd, err := memfile.Create(name, int64(size))
	if err != nil {
		return nil, err
	}
	if err := memfile.Seal(fd, memfile.FixedSize); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return mapFD(fd, size)
}

// FromFD maps a region whose descriptor came from another process. It takes
// ownership of fd (closing it on error). The descriptor must be shared
// memory that memfile.Check accepts as of a fixed size (errs.ErrNotSealed
// otherwise); the region is its whole size.
func FromFD(fd int) (*Region, error) {
	size, err := memfile.Check(fd, memfile.FixedSize)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	if size <= 0 || size > 1<<40 {
		unix.Close(fd)
		return nil, fmt.Errorf("mp: shared memory of %d bytes", size)
	}
	return mapFD(fd, int(size))
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
