//go:build linux && !mpportable

package transport

import "golang.org/x/sys/unix"

// spillMapFlags map a spill region private, and without reserving swap for
// it: Linux may refuse a large private mapping under strict overcommit
// otherwise.
const spillMapFlags = unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_NORESERVE
