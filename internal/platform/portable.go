//go:build !linux || mpportable

package platform

// Portable reports whether this build uses the portable mechanisms rather
// than Linux's own.
const Portable = true

// Mechanisms names the mechanisms of this build, for messages and reports.
const Mechanisms = "portable (polled shared words, unlinked files, framed stream sockets, FIFOs, kill(pid, 0) with start times)"
