//go:build unix

package procinfo

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// OpenFDs (per system) maps each descriptor this process has open to what
// it refers to, as far as the system tells: the path of a file, otherwise
// the kind of object and an identity that tells two objects of that kind
// apart where the system gives one ("pipe:[…]", "socket:[…]"). The target
// of a descriptor that stays open does not change, so two calls compare.

// describeByStat names what descriptor fd refers to from fstat alone: its
// kind, device and inode. It is the fallback where the system gives no
// path; an inode that the system leaves 0 (a socket on some systems)
// names the kind only.
func describeByStat(fd int) (string, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", err
	}
	kind := "file"
	switch uint32(st.Mode) & unix.S_IFMT {
	case unix.S_IFIFO:
		kind = "pipe"
	case unix.S_IFSOCK:
		kind = "socket"
	case unix.S_IFCHR:
		kind = "chardev"
	case unix.S_IFDIR:
		kind = "dir"
	case unix.S_IFBLK:
		kind = "blockdev"
	}
	if st.Ino == 0 {
		return kind, nil
	}
	return fmt.Sprintf("%s:[%d:%d]", kind, uint64(st.Dev), uint64(st.Ino)), nil
}

// probeFDs finds this process's open descriptors by asking fcntl(F_GETFD)
// of every number below the limit on open files, for systems that list
// them nowhere, and names each with describeByStat.
func probeFDs() (map[int]string, error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return nil, fmt.Errorf("mp: list open descriptors: %w", err)
	}
	// A descriptor above a lowered limit stays open; the cap keeps a
	// limit of "unlimited" from taking forever.
	top := int(min(lim.Cur, 1<<20))
	out := map[int]string{}
	for fd := range top {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			continue
		}
		if target, err := describeByStat(fd); err == nil {
			out[fd] = target
		}
	}
	return out, nil
}
