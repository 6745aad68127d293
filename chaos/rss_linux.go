package chaos

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// rssKiB returns a process's resident set in KiB (VmRSS), or -1.
func rssKiB(pid int) int {
	return statusKiB(pid, "VmRSS:")
}

// peakRSSKiB returns a process's peak resident set in KiB (VmHWM), or -1.
func peakRSSKiB(pid int) int {
	return statusKiB(pid, "VmHWM:")
}

func statusKiB(pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.Atoi(f[0])
				return n
			}
		}
	}
	return -1
}
