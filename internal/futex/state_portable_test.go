//go:build !(linux || freebsd || darwin) || mpportable

package futex

// How a goroutine in Wait, and one in WaitAny, shows in a stack dump: both
// poll, asleep in poll's select.
const (
	waitState    = "select"
	waitAnyState = "select"
)
