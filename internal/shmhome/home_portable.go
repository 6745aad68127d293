//go:build !linux || mpportable

package shmhome

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Dir returns the directory of named segments: mp-shm-<uid> in
// os.TempDir(). It may not exist yet (see Make).
func Dir() string {
	return filepath.Join(os.TempDir(), "mp-shm-"+strconv.Itoa(os.Geteuid()))
}

// Make returns Dir, creating it if need be, after Check.
func Make() (string, error) {
	dir := Dir()
	if err := unix.Mkdir(dir, 0o700); err != nil && err != unix.EEXIST {
		return "", &os.PathError{Op: "shm: make the segment directory", Path: dir, Err: err}
	}
	return Check()
}

// Check returns Dir if it is a directory of this user's own, with no access
// for others: in a temporary directory shared with other users, someone
// else could have made it first, and planted segments in it. Its error
// matches fs.ErrNotExist if the directory does not exist.
func Check() (string, error) {
	dir := Dir()
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return "", &os.PathError{Op: "shm: stat the segment directory", Path: dir, Err: err}
	}
	if uint32(st.Mode)&unix.S_IFMT != unix.S_IFDIR || int(st.Uid) != os.Geteuid() || st.Mode&0o077 != 0 {
		return "", fmt.Errorf("shm: %s is not a directory of this user's closed to others (mode %o, owner %d)", dir, st.Mode, st.Uid)
	}
	return dir, nil
}
