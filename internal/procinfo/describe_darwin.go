package procinfo

import (
	"bytes"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Describe returns the command name and state letter of process pid, from
// the kernel's process table (sysctl kern.proc.pid, struct kinfo_proc of
// <sys/sysctl.h>), or an error matching ErrNoProcess if there is none.
func Describe(pid int) (Description, error) {
	raw, err := kinfo(pid, unix.SizeofKinfoProc)
	if err != nil {
		return Description{}, err
	}
	kp := (*unix.KinfoProc)(unsafe.Pointer(&raw[0]))
	name := kp.Proc.P_comm[:]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return Description{Name: string(name), Letter: stateLetter(int(kp.Proc.P_stat))}, nil
}
