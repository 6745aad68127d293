// Package linuxonly stops a build for any other system with an error that
// says why: mp uses Linux's futexes, memfd, pidfd, eventfd and
// SOCK_SEQPACKET sockets directly. The packages that rest on them import
// it.
package linuxonly
