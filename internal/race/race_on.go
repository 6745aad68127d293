//go:build race

package race

import "sync/atomic"

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
