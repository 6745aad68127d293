//go:build !linux

package subprocess

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// Containment beyond the process group rests on Linux (a child subreaper,
// pidfds, /proc, cgroup v2). Elsewhere ContainSubreaper acts as
// ContainGroup and ContainCgroup fails.

var errNoContainment = errors.New("containment beyond the process group needs Linux")

func becomeSubreaper() error { return errNoContainment }

// killMarked and termMarked are never reached: no child gets a marker.
func killMarked(string) {}

func termMarked(string, time.Time, func(int) bool) {}

func procPgid(int) int { return -1 }

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
