// Package transport moves messages between processes over Unix
// SOCK_SEQPACKET sockets: each message is one datagram, so message
// boundaries are kept by the kernel, many processes can read or write one
// socket without tearing messages, and file descriptors travel with a
// message (SCM_RIGHTS). A payload travels in the datagram itself up to what
// the socket's send buffer allows (4 MiB with a common net.core.wmem_max of
// 4 MiB; 100 KiB or so with the kernel's default); a larger one is written to
// a memfd whose descriptor is sent instead. Receiving a large datagram uses
// address space mapped on demand, so small-message sockets stay small.
//
// Blocking operations go through Go's network poller and take a context.
package transport
