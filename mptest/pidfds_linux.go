package mptest

import (
	"os"
	"slices"
	"strconv"
	"strings"
)

// pidfdsOf returns this process's pidfds that refer to one of pids: the
// "Pid:" line of a pidfd's /proc/self/fdinfo entry names its process.
func pidfdsOf(pids []int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc/self/fdinfo")
	for _, e := range ents {
		data, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			pid, ok := strings.CutPrefix(line, "Pid:")
			if !ok {
				continue
			}
			n, _ := strconv.Atoi(strings.TrimSpace(pid))
			if slices.Contains(pids, n) {
				fd, _ := strconv.Atoi(e.Name())
				out = append(out, fd)
			}
		}
	}
	return out
}
