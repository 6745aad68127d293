//go:build !linux || mpportable

package transport

import "golang.org/x/sys/unix"

// spillMapFlags map a spill region private. There is no MAP_NORESERVE:
// FreeBSD refuses the flag (its value is reserved since FreeBSD 11) and
// macOS ignores it; both reserve nothing for an anonymous mapping until
// its pages are touched anyway.
const spillMapFlags = unix.MAP_PRIVATE | unix.MAP_ANON
