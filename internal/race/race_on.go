//go:build race

package race

import (
	"bytes"
	"runtime"
	"strconv"
	"sync/atomic"
)

// Enabled reports whether the program was built with the race detector.
const Enabled = true

// Sync tells the race detector about the ordering a lock in shared memory
// gives: the detector cannot see the futex words, so without it Go memory
// guarded by an mp lock would be reported as racing. An atomic add before a
// release and an atomic load after an acquire are synchronization to the
// detector. It orders goroutines of one process that share the handle.
type Sync struct{ v atomic.Uint64 }

// Acquired is called after the lock is taken.
func (r *Sync) Acquired() { r.v.Load() }

// Releasing is called before the lock is released.
func (r *Sync) Releasing() { r.v.Add(1) }

// Goroutine returns the number the runtime gives the calling goroutine, read
// from the first line of its stack trace ("goroutine 7 [running]:"). It
// costs a traceback, some microseconds, which is why only race-detector
// builds, slower anyway, use it: mp's ReentrantLock spends it to report a
// Lock that would wait for its own caller.
func Goroutine() uint64 {
	var buf [64]byte
	line := buf[:runtime.Stack(buf[:], false)]
	line, _, _ = bytes.Cut(bytes.TrimPrefix(line, []byte("goroutine ")), []byte(" "))
	id, err := strconv.ParseUint(string(line), 10, 64)
	if err != nil {
		panic("mp: unexpected stack trace header: " + string(buf[:]))
	}
	return id
}
