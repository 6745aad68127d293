//go:build freebsd && (amd64 || arm64)

package procinfo

import (
	"bytes"
)

// offComm is the offset of char ki_comm[COMMLEN+1] in struct kinfo_proc of
// FreeBSD's <sys/user.h> on 64-bit systems: after ki_stat (offStat) come
// ki_nice, ki_lock, ki_rqindex, ki_oncpu_old, ki_lastcpu_old (a byte
// each), ki_tdname[17], ki_wmesg[9], ki_login[18] and ki_lockname[9].
const (
	offComm = offStat + 6 + 17 + 9 + 18 + 9
	lenComm = 20
)

// Describe returns the command name and state letter of process pid, from
// the kernel's process table (sysctl kern.proc.pid), or an error matching
// ErrNoProcess if there is none.
func Describe(pid int) (Description, error) {
	raw, err := kinfo(pid, offComm+lenComm)
	if err != nil {
		return Description{}, err
	}
	name := raw[offComm : offComm+lenComm]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return Description{Name: string(name), Letter: stateLetter(int(raw[offStat]))}, nil
}
