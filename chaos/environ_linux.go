package chaos

import (
	"os"
	"strconv"
)

// environ returns the environment process pid started with, as NUL-ended
// "NAME=value" strings (/proc/<pid>/environ).
func environ(pid int) ([]byte, error) {
	return os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
}
