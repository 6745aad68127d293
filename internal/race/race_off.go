//go:build !race

// Package race adapts mp to the race detector: whether it is on, and how a
// lock in shared memory, which the detector cannot see, tells it about the
// ordering it gives.
package race

// Enabled reports whether the program was built with the race detector.
const Enabled = false

// Sync is empty outside race-detector builds; see race_on.go.
type Sync struct{}

// Acquired is called after the lock is taken.
func (*Sync) Acquired() {}

// Releasing is called before the lock is released.
func (*Sync) Releasing() {}

// Goroutine returns 0 outside race-detector builds; see race_on.go.
func Goroutine() uint64 { return 0 }
