//go:build !linux

package chaos

import (
	"os"
	"slices"

	"github.com/mpgo/mp/internal/background"
)

// poolWorkers returns the live pool workers among this process's
// children. Only Linux shows a process's own name (its comm); here the
// process table names the executable, the same for every child, so a
// worker is a live child that is not one mp keeps for the life of the
// process (a warm spare, the shared memory tracker). The pool experiment
// has no other children.
func poolWorkers() []int {
	keep := background.Pids()
	var ws []int
	for _, c := range children(os.Getpid()) {
		if !slices.Contains(keep, c) && alive(c) {
			ws = append(ws, c)
		}
	}
	return ws
}
