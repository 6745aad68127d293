package procinfo

import (
	"bytes"
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Describe returns the command name and state letter of process pid, from
// the kernel's process table (sysctl kern.proc.pid, struct kinfo_proc of
// <sys/sysctl.h>), or an error matching ErrNoProcess if there is none.
func Describe(pid int) (Description, error) {
	if pid <= 0 {
		return Description{}, ErrNoProcess
	}
	raw, err := unix.SysctlRaw("kern.proc.pid", pid)
	if errors.Is(err, syscall.ESRCH) || err == nil && len(raw) == 0 {
		return Description{}, ErrNoProcess
	}
	if err != nil {
		return Description{}, fmt.Errorf("mp: read the state of process %d: %w", pid, err)
	}
	if len(raw) < unix.SizeofKinfoProc {
		return Description{}, fmt.Errorf("mp: process %d: short kinfo_proc (%d bytes)", pid, len(raw))
	}
	kp := (*unix.KinfoProc)(unsafe.Pointer(&raw[0]))
	name := kp.Proc.P_comm[:]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return Description{Name: string(name), Letter: stateLetter(int(kp.Proc.P_stat))}, nil
}
