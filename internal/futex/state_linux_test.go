//go:build linux && !mpportable

package futex

// How a goroutine in Wait, and one in WaitAny, shows in a stack dump:
// asleep in the kernel.
const (
	waitState    = "syscall"
	waitAnyState = "syscall"
)
