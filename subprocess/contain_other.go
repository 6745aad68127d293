//go:build !linux

package subprocess

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// Containment beyond the process group rests on Linux kernel features (a
// child subreaper, /proc/<pid>/environ, cgroup v2). Elsewhere
// ContainSubreaper acts as ContainGroup and ContainCgroup fails with
// ErrNoCgroup. (FreeBSD's procctl(PROC_REAP_ACQUIRE, PROC_REAP_KILL) could
// carry ContainSubreaper there; x/sys/unix offers no wrapper yet.)

var errNoContainment = errors.New("containment beyond the process group needs Linux")

func becomeSubreaper() error { return errNoContainment }

// killMarked and termMarked are never reached: no child gets a marker.
func killMarked(string) {}

func termMarked(string, time.Time, func(int) bool) {}

// cgroup is never made: newCgroup fails.
type cgroup struct{}

func newCgroup() (*cgroup, error) {
	return nil, fmt.Errorf("%w: %w", ErrNoCgroup, errNoContainment)
}

func (*cgroup) started()                       {}
func (*cgroup) term(time.Time, func(int) bool) {}
func (*cgroup) kill()                          {}
func (*cgroup) end()                           {}
func (*cgroup) remove()                        {}
func (*cgroup) into(*syscall.SysProcAttr)      {}
