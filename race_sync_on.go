//go:build race

package mp

import "sync/atomic"

// raceSync tells the race detector about the ordering a lock in shared
// memory gives: the detector cannot see the futex words, so without it Go
// memory guarded by an mp lock would be reported as racing. An atomic add
// before a release and an atomic load after an acquire are synchronization
// to the detector. It orders goroutines of one process that share the handle.
type raceSync struct{ v atomic.Uint64 }

func (r *raceSync) acquired()  { r.v.Load() }
func (r *raceSync) releasing() { r.v.Add(1) }
