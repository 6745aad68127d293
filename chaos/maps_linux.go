package chaos

import (
	"os"
	"strings"
)

// sharedMappings counts this process's shared mappings: mp's objects in
// shared memory. The private ones are the Go runtime's, which maps and
// splits its heap as it likes.
func sharedMappings() int {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return -1
	}
	n := 0
	for line := range strings.Lines(string(b)) {
		// "start-end perms offset dev inode path"; perms is "rw-s" for a
		// shared mapping.
		if f := strings.Fields(line); len(f) > 1 && strings.HasSuffix(f[1], "s") {
			n++
		}
	}
	return n
}

// shmEntries counts the distinct /dev/shm entries this process maps or
// holds open. /dev/shm is shared with every other program, so its
// listing says nothing about this one.
func shmEntries() int {
	seen := map[string]bool{}
	if b, err := os.ReadFile("/proc/self/maps"); err == nil {
		for line := range strings.Lines(string(b)) {
			if i := strings.Index(line, "/dev/shm/"); i >= 0 {
				seen[strings.TrimSpace(line[i:])] = true
			}
		}
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		if t, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(t, "/dev/shm/") {
			seen[t] = true
		}
	}
	return len(seen)
}
