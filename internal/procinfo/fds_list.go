//go:build linux || darwin

package procinfo

import (
	"fmt"
	"os"
	"strconv"
)

// listFDs maps each descriptor named in dir (a listing of this process's
// descriptors by number: /proc/self/fd, /dev/fd) to what name says it
// refers to; where dir cannot be read, every number is probed instead
// (probeFDs). A descriptor name cannot tell of was closed since dir was
// read (the one ReadDir itself used, say) and is left out.
func listFDs(dir string, name func(fd int) (string, error)) (map[int]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if out, perr := probeFDs(); perr == nil {
			return out, nil
		}
		return nil, fmt.Errorf("mp: list open descriptors: %w", err)
	}
	out := make(map[int]string, len(ents))
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if target, err := name(fd); err == nil {
			out[fd] = target
		}
	}
	return out, nil
}
