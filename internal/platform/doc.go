// Package platform names the set of system mechanisms a build of mp uses.
//
// mp rests on a few mechanisms of the system: waiting on a word of shared
// memory, anonymous shared memory, message sockets that carry descriptors,
// bells that wake sleepers in other processes, and watching another process
// end. On Linux each has a native implementation (futex, sealed memfd,
// SOCK_SEQPACKET, eventfd, pidfd). Each also has a portable one, built on
// POSIX alone (polling with a bounded sleep, a file unlinked as soon as it
// is made, a byte stream with framing, a FIFO, kill(pid, 0) with the start
// time), which macOS and FreeBSD use, except where a native mechanism of
// theirs is small and clearly better.
//
// The build tag mpportable selects the portable implementations on Linux
// too, so that the whole test suite runs on them where CI runs:
//
//	go test -tags mpportable ./...
package platform
