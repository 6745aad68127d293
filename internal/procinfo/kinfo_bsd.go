//go:build darwin || (freebsd && (amd64 || arm64))

package procinfo

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// kinfo returns process pid's record in the kernel's process table
// (sysctl kern.proc.pid: a struct kinfo_proc), at least min bytes long, or
// an error matching ErrNoProcess if there is none.
func kinfo(pid, min int) ([]byte, error) {
	if pid <= 0 {
		return nil, ErrNoProcess
	}
	raw, err := unix.SysctlRaw("kern.proc.pid", pid)
	if errors.Is(err, syscall.ESRCH) || err == nil && len(raw) == 0 {
		return nil, ErrNoProcess
	}
	if err != nil {
		return nil, fmt.Errorf("mp: read the state of process %d: %w", pid, err)
	}
	if len(raw) < min {
		return nil, fmt.Errorf("mp: process %d: short kinfo_proc (%d bytes)", pid, len(raw))
	}
	return raw, nil
}
