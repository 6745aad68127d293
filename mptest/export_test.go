package mptest

import "time"

// SetSettle sets how long CheckLeaks waits for things to wind down, and
// returns a function that restores it.
func SetSettle(d time.Duration) (restore func()) {
	old := settle
	settle = d
	return func() { settle = old }
}
