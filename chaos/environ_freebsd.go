package chaos

import "golang.org/x/sys/unix"

// environ returns the environment process pid started with, as NUL-ended
// "NAME=value" strings (sysctl kern.proc.env, sysctl(3)).
func environ(pid int) ([]byte, error) {
	return unix.SysctlRaw("kern.proc.env", pid)
}
