//go:build !linux

package chaos

// rssKiB returns a process's resident set in KiB, or -1: only Linux tells
// it of another process without privileges (in /proc). The memory
// figures of the rows are missing here.
func rssKiB(pid int) int { return -1 }

// peakRSSKiB returns a process's peak resident set in KiB, or -1 (see
// rssKiB).
func peakRSSKiB(pid int) int { return -1 }
