//go:build !linux

package mptest

// pidfdsOf returns this process's pidfds that refer to one of pids: none,
// since only Linux has pidfds (the Go runtime holds none for its children
// here).
func pidfdsOf(pids []int) []int { return nil }
