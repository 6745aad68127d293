// Package transport moves messages between processes over Unix sockets.
//
// On Linux (seqpacket.go, datagram.go) a Conn is one end of a
// SOCK_SEQPACKET socket: each message is one datagram, so message
// boundaries are kept by the kernel, many processes can read or write one
// socket without tearing messages, and file descriptors travel with a
// message (SCM_RIGHTS). A payload travels in the datagram itself up to what
// the socket's send buffer allows (4 MiB with a common net.core.wmem_max of
// 4 MiB; 100 KiB or so with the kernel's default); a larger one is written to
// a memfd whose descriptor is sent instead. Receiving a large datagram uses
// address space mapped on demand, so small-message sockets stay small.
//
// In the portable build (macOS, FreeBSD, and Linux with the mpportable
// tag; portable.go) a Conn is one end of a Unix SOCK_STREAM socket that
// carries framed messages with descriptors (unixstream.go, stream.go): the
// same guarantees within a process, but several processes must not send,
// or receive, on one end at the same time. A payload over 64 KiB travels
// in a memfd there too.
//
// Over TCP (NewStream) a Conn carries the same frames, without
// descriptors.
//
// Blocking operations go through Go's network poller and take a context.
package transport
