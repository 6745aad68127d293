package subprocess

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// startError is the error of a start that failed. The kernel reports a
// working directory that cannot be entered as a failure of the exec
// ("fork/exec /bin/sh: no such file or directory"), which names the
// program; when Dir is the cause, the error names Dir instead, as Python's
// does. Only a failed start pays for the check.
func startError(err error, dir string) error {
	if dir == "" {
		return err
	}
	if derr := checkDir(dir); derr != nil {
		return derr
	}
	return err
}

// checkDir returns why dir cannot be a working directory, as a
// *fs.PathError for "chdir" that keeps the errno (ENOENT matches
// fs.ErrNotExist, ENOTDIR and EACCES match themselves), or nil.
func checkDir(dir string) error {
	var errno error
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		errno = err
		var pe *fs.PathError
		if errors.As(err, &pe) {
			errno = pe.Err
		}
	case !fi.IsDir():
		errno = unix.ENOTDIR
	default:
		errno = unix.Access(dir, unix.X_OK)
	}
	if errno == nil {
		return nil
	}
	return &fs.PathError{Op: "chdir", Path: dir, Err: errno}
}
