//go:build !linux

package chaos

// sharedMappings counts this process's shared mappings, or returns -1:
// only Linux lists them (in /proc/self/maps). Cycles's mapGrowth is then
// not measured.
func sharedMappings() int { return -1 }

// shmEntries counts the named shared memory objects this process maps or
// holds open, or returns -1: only Linux names them (/dev/shm in
// /proc/self/maps). Cycles's shmGrowth is then not measured; descriptors
// left open on such objects still count in fdGrowth.
func shmEntries() int { return -1 }
