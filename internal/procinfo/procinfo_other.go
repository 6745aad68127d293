//go:build !linux && !darwin && !(freebsd && (amd64 || arm64))

package procinfo

import "errors"

// Available reports whether this system can answer Read: mp does not know
// how to read the process table here.
const Available = false

var errUnsupported = errors.New("mp: reading another process's state is not supported on this system")

// Read always fails here.
func Read(pid int) (Info, error) { return Info{}, errUnsupported }

// List always fails here.
func List() ([]int, error) { return nil, errUnsupported }
