//go:build linux && !mpportable

package platform

// Portable reports whether this build uses the portable mechanisms rather
// than Linux's own.
const Portable = false

// Mechanisms names the mechanisms of this build, for messages and reports.
const Mechanisms = "linux (futex, sealed memfd, SOCK_SEQPACKET, eventfd, pidfd)"
