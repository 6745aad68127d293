//go:build freebsd && (amd64 || arm64)

package procinfo

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Available reports whether this system can answer Read.
const Available = true

// Offsets in struct kinfo_proc of FreeBSD's <sys/user.h> on 64-bit
// systems (LP64). The kernel keeps the layout of these leading fields
// stable across releases; ki_structsize says how long the record is.
const (
	offStructsize = 0   // int ki_structsize
	offPid        = 72  // pid_t ki_pid
	offPpid       = 76  // pid_t ki_ppid
	offPgid       = 80  // pid_t ki_pgid
	offStartSec   = 336 // struct timeval ki_start: time_t tv_sec
	offStartUsec  = 344 //                            suseconds_t tv_usec
	offStat       = 388 // char ki_stat
	minKinfo      = offStat + 1
)

// Process states of <sys/proc.h>.
const (
	sStop = 4
	sZomb = 5
)

// Read returns what the kernel's process table (sysctl kern.proc.pid)
// says of process pid, or an error matching ErrNoProcess if there is none.
func Read(pid int) (Info, error) {
	// FreeBSD does not keep ki_start: it computes it for each call as the
	// process's start on the uptime clock plus the boot time, which moves
	// when the wall clock is stepped. The start on the uptime clock, which
	// never moves, is ki_start less the boot time read with it; a step
	// between the two reads is seen as a change of boot time, and the
	// reading is made again.
	for {
		before, err := bootTime()
		if err != nil {
			return Info{}, err
		}
		raw, err := kinfo(pid, minKinfo)
		if err != nil {
			return Info{}, err
		}
		after, err := bootTime()
		if err != nil {
			return Info{}, err
		}
		if before != after {
			continue
		}
		info, _, err := parseKinfo(raw)
		info.Start -= before
		return info, err
	}
}

// bootTime returns the boot time in microseconds since the epoch
// (kern.boottime), as the kernel reckons it now.
func bootTime() (uint64, error) {
	tv, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return 0, fmt.Errorf("mp: read the boot time: %w", err)
	}
	return uint64(tv.Sec)*1e6 + uint64(tv.Usec), nil
}

// parseKinfo parses the first kinfo_proc record of raw, and returns it,
// its pid, and the length of the record.
func parseKinfo(raw []byte) (Info, int, error) {
	if len(raw) < minKinfo {
		return Info{}, 0, fmt.Errorf("mp: short kinfo_proc (%d bytes)", len(raw))
	}
	le := binary.LittleEndian
	size := int(int32(le.Uint32(raw[offStructsize:])))
	if size < minKinfo || size > len(raw) {
		return Info{}, 0, fmt.Errorf("mp: kinfo_proc of %d bytes", size)
	}
	info := Info{
		State:  Running,
		Parent: int(int32(le.Uint32(raw[offPpid:]))),
		Group:  int(int32(le.Uint32(raw[offPgid:]))),
		Start:  le.Uint64(raw[offStartSec:])*1e6 + le.Uint64(raw[offStartUsec:]),
	}
	switch raw[offStat] {
	case sZomb:
		info.State = Zombie
	case sStop:
		info.State = Stopped
	}
	return info, int(int32(le.Uint32(raw[offPid:]))), nil
}

// List returns the pids of every process on the system.
func List() ([]int, error) {
	raw, err := unix.SysctlRaw("kern.proc.proc")
	if err != nil {
		return nil, fmt.Errorf("mp: list processes: %w", err)
	}
	var pids []int
	for len(raw) >= minKinfo {
		size := int(int32(binary.LittleEndian.Uint32(raw)))
		if size < minKinfo || size > len(raw) {
			break
		}
		if _, pid, err := parseKinfo(raw[:size]); err == nil {
			pids = append(pids, pid)
		}
		raw = raw[size:]
	}
	return pids, nil
}
