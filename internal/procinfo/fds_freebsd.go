package procinfo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Offsets in struct kinfo_file of FreeBSD's <sys/user.h> (KINFO_FILE_SIZE
// 1392 bytes, a size the kernel keeps for ABI compatibility). sysctl
// kern.proc.filedesc returns the records packed: each ki_structsize long,
// kf_path cut after its NUL.
const (
	kfStructsize = 0   // int kf_structsize
	kfType       = 4   // int kf_type
	kfFD         = 8   // int kf_fd
	kfID         = 304 // kf_un: kf_sock_pcb, kf_pipe_addr or kf_file_fileid
	kfPath       = 368 // char kf_path[PATH_MAX]
)

// kf_type values of <sys/user.h>.
var kfTypes = map[uint32]string{
	1: "file", 2: "socket", 3: "pipe", 4: "fifo", 5: "kqueue", 6: "crypto",
	7: "mqueue", 8: "shm", 9: "sem", 10: "pts", 11: "procdesc", 12: "dev",
	13: "eventfd", 14: "timerfd",
}

// OpenFDs maps each descriptor this process has open to what it refers to,
// from sysctl kern.proc.filedesc: a path where the kernel has one (a file;
// a shm_open name), otherwise the kind of object and the kernel's own
// identity of it. FreeBSD's /dev/fd shows only 0 to 2 unless fdescfs is
// mounted, so the sysctl is the list; should it fail, every number is
// probed.
func OpenFDs() (map[int]string, error) {
	raw, err := unix.SysctlRaw("kern.proc.filedesc", os.Getpid())
	if err != nil {
		if out, perr := probeFDs(); perr == nil {
			return out, nil
		}
		return nil, fmt.Errorf("mp: list open descriptors: %w", err)
	}
	return parseFiledesc(raw), nil
}

// parseFiledesc reads packed kinfo_file records. Entries that are not
// descriptors (the current and root directories, the executable: kf_fd
// below 0) are left out.
func parseFiledesc(raw []byte) map[int]string {
	le := binary.LittleEndian
	out := map[int]string{}
	for len(raw) >= kfPath {
		size := int(int32(le.Uint32(raw[kfStructsize:])))
		if size < kfPath || size > len(raw) {
			break
		}
		rec := raw[:size]
		raw = raw[size:]
		fd := int(int32(le.Uint32(rec[kfFD:])))
		if fd < 0 {
			continue
		}
		path := rec[kfPath:]
		if i := bytes.IndexByte(path, 0); i >= 0 {
			path = path[:i]
		}
		if len(path) > 0 {
			out[fd] = string(path)
			continue
		}
		kind, ok := kfTypes[le.Uint32(rec[kfType:])]
		if !ok {
			kind = "unknown"
		}
		if id := le.Uint64(rec[kfID:]); id != 0 {
			out[fd] = fmt.Sprintf("%s:[%#x]", kind, id)
		} else {
			out[fd] = kind
		}
	}
	return out
}
