package procinfo

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Available reports whether this system can answer Read.
const Available = true

// Read returns what the kernel's process table (sysctl kern.proc.pid, a
// struct kinfo_proc of <sys/sysctl.h>) says of process pid, or an error
// matching ErrNoProcess if there is none.
func Read(pid int) (Info, error) {
	raw, err := kinfo(pid, unix.SizeofKinfoProc)
	if err != nil {
		return Info{}, err
	}
	kp := (*unix.KinfoProc)(unsafe.Pointer(&raw[0]))
	return infoOf(kp), nil
}

// Process states of <sys/proc.h>.
const (
	sStop = 4
	sZomb = 5
)

func infoOf(kp *unix.KinfoProc) Info {
	t := kp.Proc.P_starttime
	info := Info{
		State:  Running,
		Parent: int(kp.Eproc.Ppid),
		Group:  int(kp.Eproc.Pgid),
		Start:  uint64(t.Sec)*1e6 + uint64(t.Usec),
	}
	switch kp.Proc.P_stat {
	case sZomb:
		info.State = Zombie
	case sStop:
		info.State = Stopped
	}
	return info
}

// List returns the pids of every process on the system.
func List() ([]int, error) {
	procs, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		return nil, fmt.Errorf("mp: list processes: %w", err)
	}
	pids := make([]int, 0, len(procs))
	for i := range procs {
		pids = append(pids, int(procs[i].Proc.P_pid))
	}
	return pids, nil
}
