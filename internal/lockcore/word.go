package lockcore

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// lowHalf returns the address of the low 32 bits of a 64-bit word, the part
// a futex waits on.
func lowHalf(w *atomic.Uint64) *atomic.Uint32 {
	p := unsafe.Pointer(w)
	if bigEndian {
		p = unsafe.Add(p, 4)
	}
	return (*atomic.Uint32)(p)
}

var bigEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 0
}()

// spin is how many times a contended acquire looks at the word before it
// sleeps in the kernel. A critical section between processes is often a
// few dozen nanoseconds; a futex sleep and wake-up costs microseconds.
const spin = 200

// relax lets the other thread on the core (or the holder) progress during a
// spin; every 32nd round yields the processor.
func relax(i int) {
	if i%32 == 31 {
		runtime.Gosched()
	}
}
