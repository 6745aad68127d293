package procinfo

import (
	"fmt"
	"os"
	"strconv"
)

// OpenFDs maps each descriptor this process has open to what it refers to:
// the link in /proc/self/fd ("/dev/null", "pipe:[1234]", "socket:[5678]",
// "anon_inode:[pidfd]"). Without /proc, it probes every number.
func OpenFDs() (map[int]string, error) {
	ents, err := os.ReadDir("/proc/self/fd")
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
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the descriptor ReadDir itself used, closed since
		}
		out[fd] = target
	}
	return out, nil
}
