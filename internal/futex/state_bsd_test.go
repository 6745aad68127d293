//go:build (freebsd || darwin) && !mpportable

package futex

// How a goroutine in Wait shows in a stack dump: asleep in the kernel; one
// in WaitAny polls, asleep in poll's select.
const (
	waitState    = "syscall"
	waitAnyState = "select"
)
