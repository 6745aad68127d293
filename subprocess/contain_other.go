//go:build !linux

package subprocess

import (
	"errors"
	"fmt"
	"syscall"
)

// Containment beyond the process group rests on Linux (a child subreaper,
// pidfds, /proc, cgroup v2). Elsewhere ContainSubreaper acts as
// ContainGroup and ContainCgroup fails.

var errNoContainment = errors.New("containment beyond the process group needs Linux")

func becomeSubreaper() error { return errNoContainment }

// killMarked and signalMarked are never reached: no child gets a marker.
func killMarked(string) {}

func signalMarked(string, syscall.Signal) []int { return nil }

func closeTransient([]int) {}

// cgroup is never made: newCgroup fails.
type cgroup struct{}

func newCgroup() (*cgroup, error) {
	return nil, fmt.Errorf("%w: %w", ErrNoCgroup, errNoContainment)
}

func (*cgroup) started()                  {}
func (*cgroup) signal(syscall.Signal)     {}
func (*cgroup) kill()                     {}
func (*cgroup) end()                      {}
func (*cgroup) remove()                   {}
func (*cgroup) into(*syscall.SysProcAttr) {}
