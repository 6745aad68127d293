package chaos

import (
	"os"
	"strings"

	"github.com/mpgo/mp/internal/procinfo"
)

// poolWorkers returns the live pool workers among this process's
// children: on Linux a worker's comm is its name, PoolWorker-<n>.
func poolWorkers() []int {
	var ws []int
	for _, c := range children(os.Getpid()) {
		if d, err := procinfo.Describe(c); err == nil && strings.HasPrefix(d.Name, "PoolWorker-") && d.Letter != 'Z' {
			ws = append(ws, c)
		}
	}
	return ws
}
