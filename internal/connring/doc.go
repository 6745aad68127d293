// Package connring carries a Pipe's messages through shared memory: each
// direction of the pipe is a ring of records in a memfd that both ends
// map, so that a small message costs a lock, a copy and a store instead of
// a system call, and a reader that is behind takes a burst of messages
// without one system call each.
//
// The pipe keeps the socket pair it had before, and the socket keeps three
// jobs:
//
//   - The end of the peer. The kernel tells a reader, through the socket,
//     when every copy of the other end is closed (in every process, kill -9
//     included); a reader that finds its ring empty looks there for EOF, and
//     a sender looks there for a closed peer.
//   - Waking. A reader that found its ring empty registers as a sleeper and
//     sleeps in Go's poller on its socket; a sender that puts a record into
//     the ring while someone sleeps (or once the end's descriptor has been
//     handed out for polling, see End.Fd), and no wake is in the socket,
//     sends a wake datagram first. The wake stays in the socket until a
//     reader empties the ring, so the socket is readable while the ring
//     holds records: a sleeper, or a poll(2) of the descriptor, sees it as
//     it would a datagram.
//   - Descriptors and large messages. A message with descriptors, or larger
//     than a quarter of the ring, travels as a datagram, as before, and the
//     ring holds a ticket for it that keeps its place among the records.
//     The datagram carries the ticket's number: a reader that takes a
//     ticket receives datagrams until the one with its number, and drops
//     the wakes and the datagrams of senders that died before writing their
//     tickets on the way. Since it may take a wake that was in front of the
//     datagram, a ticket sent while a wake is in the socket is followed by
//     another, so that one stays behind it.
//
// Each direction has three locks in the shared memory (lockcore.Mutex,
// which a process that dies holding one hands over): the writers' lock,
// held by a sender while it copies a record into the free space after the
// tail; the readers' lock, held by a reader while it copies the record at
// the head out (or takes a ticket's datagram); and the state lock, taken
// by either only to commit, to wake or to register as a sleeper. So a
// sender's copy and a reader's run at the same time, and senders among
// themselves (readers among themselves) keep their order. Every change of
// shared state is made visible by one store, so a process killed at any
// instruction leaves a ring that the next holder of the locks can use: a
// record is written in free space and then committed by the store of the
// tail; a reader copies a record out and then commits by the store of the
// head. The failures left are harmless by construction: a sender sends its
// wake before it commits the record, and a reader clears the wake flag
// before it takes the wake out, so that a death in between leaves a wake
// without a record (one spurious wake-up) and never a record without its
// wake. A ticket's datagram is sent under the state lock, and a reader
// empties the socket only under it, so that a reader never takes a
// datagram whose ticket is still to come.
//
// What is lost when a process dies is what it had taken: a record a reader
// had copied out and committed, a datagram whose ticket it had committed.
// That is what a socket loses when its reader dies after a receive.
//
// The ring is used on Linux's own mechanisms (SOCK_SEQPACKET), where a
// datagram goes whole or not at all, so that a sender can try to send
// under the state lock and, if the socket is full, let go of the locks and
// wait; a byte stream cannot promise that.
package connring
