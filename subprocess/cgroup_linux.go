package subprocess

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cgroup is the cgroup v2 of one child under ContainCgroup.
type cgroup struct {
	dir string
	fd  int // the directory, open until the child has started; -1 after
}

// cgroupSeq numbers the cgroups of this process.
var cgroupSeq atomic.Uint64

// newCgroup creates a cgroup for a child under this process's own.
func newCgroup() (*cgroup, error) {
	base, err := ownCgroupDir()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoCgroup, err)
	}
	dir := filepath.Join(base, fmt.Sprintf("mp-subprocess-%d-%d", os.Getpid(), cgroupSeq.Add(1)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoCgroup, err)
	}
	cg := &cgroup{dir: dir, fd: -1}
	if _, err := os.Stat(filepath.Join(dir, "cgroup.kill")); err != nil {
		cg.remove()
		return nil, fmt.Errorf("%w: no cgroup.kill (Linux 5.14 has it): %w", ErrNoCgroup, err)
	}
	cg.fd, err = unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		cg.remove()
		return nil, fmt.Errorf("%w: open %s: %w", ErrNoCgroup, dir, err)
	}
	return cg, nil
}

// ownCgroupDir returns the directory of this process's cgroup v2.
func ownCgroupDir() (string, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	var path string
	found := false
	for line := range strings.SplitSeq(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			path, found = p, true
		}
	}
	if !found {
		return "", errors.New("this process is in no cgroup v2 hierarchy")
	}
	mount, root, err := cgroup2Mount()
	if err != nil {
		return "", err
	}
	rel, ok := strings.CutPrefix(path, root)
	if !ok {
		return "", fmt.Errorf("cgroup %s is outside the mounted hierarchy %s", path, root)
	}
	return filepath.Join(mount, rel), nil
}

// cgroup2Mount finds the cgroup2 mount in /proc/self/mountinfo: its mount
// point and the path in the hierarchy that it shows.
func cgroup2Mount() (mount, root string, err error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mount-point options … - fstype source …
		fields := strings.Fields(sc.Text())
		i := slices.Index(fields, "-")
		if i < 0 || i+1 >= len(fields) || len(fields) < 5 || fields[i+1] != "cgroup2" {
			continue
		}
		return unescapeMountinfo(fields[4]), unescapeMountinfo(fields[3]), nil
	}
	return "", "", errors.New("no cgroup2 file system is mounted")
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) of a path
// in mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// started closes the directory, which the child no longer needs.
func (cg *cgroup) started() {
	if cg.fd >= 0 {
		unix.Close(cg.fd)
		cg.fd = -1
	}
}

// term sends SIGTERM to every process in the cgroup that signalled does
// not name, then waits until the cgroup is empty, or until deadline.
func (cg *cgroup) term(deadline time.Time, signalled func(pid int) bool) {
	// A pid read from cgroup.procs may be reused before it is held as a
	// target: hold them first, then signal those whose pid the cgroup
	// still lists, which are then the processes the targets name.
	var ts []target
	for pid := range cg.procs() {
		if signalled(pid) {
			continue
		}
		if t, err := openTarget(pid); err == nil {
			ts = append(ts, t)
		}
	}
	members := cg.procs()
	for _, t := range ts {
		if _, ok := members[t.pid]; ok {
			_ = t.signal(unix.SIGTERM)
		}
	}
	closeTargets(ts)
	cg.waitEmpty(deadline)
}

// procs returns the pids cgroup.procs lists.
func (cg *cgroup) procs() map[int]struct{} {
	data, _ := os.ReadFile(filepath.Join(cg.dir, "cgroup.procs"))
	out := map[int]struct{}{}
	for f := range strings.FieldsSeq(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			out[pid] = struct{}{}
		}
	}
	return out
}

// kill kills every process in the cgroup at once.
func (cg *cgroup) kill() {
	_ = os.WriteFile(filepath.Join(cg.dir, "cgroup.kill"), []byte("1"), 0)
}

// end kills what is left in the cgroup, waits until it is empty and removes
// it, once the child has exited.
func (cg *cgroup) end() {
	cg.started()
	cg.kill()
	cg.waitEmpty(time.Now().Add(containKillBound))
	cg.remove()
	// What was killed was reparented here, or to init.
	if isSubreaper() {
		reapStrangers()
	}
}

// into has the child of attr start in the cgroup.
func (cg *cgroup) into(attr *syscall.SysProcAttr) {
	attr.UseCgroupFD, attr.CgroupFD = true, cg.fd
}

// waitEmpty waits until no process is left in the cgroup, or until
// deadline. The kernel wakes a poll of cgroup.events when "populated"
// changes.
func (cg *cgroup) waitEmpty(deadline time.Time) {
	fd, err := unix.Open(filepath.Join(cg.dir, "cgroup.events"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	buf := make([]byte, 256)
	for {
		n, err := unix.Pread(fd, buf, 0)
		if err != nil || bytes.Contains(buf[:max(n, 0)], []byte("populated 0")) {
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		pf := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLPRI}}
		if _, err := unix.Poll(pf, int(left.Milliseconds())+1); err != nil && err != unix.EINTR {
			return
		}
	}
}

// remove removes the cgroup, which must be empty.
func (cg *cgroup) remove() {
	cg.started()
	_ = unix.Rmdir(cg.dir)
}
