// Package queue is the machinery of mp's queues: a queue of encoded items
// in shared memory, used by any number of goroutines in any number of
// processes that hold its descriptors.
//
// A queue is a memfd (layout.go) holding a lock, two copies of the state
// (positions and counts; a change is written to the spare copy and made
// current with one store, so a process that dies holding the lock leaves
// the last complete state) and the items: a ring of records, plus a bulk
// ring for large items, copied in and out without the lock (bulk.go), for a
// FIFO queue (ring.go); a sorted index of
// records for a LIFO or priority queue (stack.go). Items that hold
// descriptors, or are too large for the bulk ring, travel through a
// SOCK_SEQPACKET pair (a Unix stream pair in the portable build) with a
// ticket in the ring (sock.go). Sleepers wait on bells (eventfds, or
// FIFOs in the portable build) in Go's poller (bell.go). A Core that may buffer keeps items
// that find no room in its process and feeds them over in order
// (feeder.go), as Python's feeder thread does. A Get hands the item to its
// caller under the lock and commits the removal only then (get.go), so a
// getter that dies inside Get leaves the item in the queue (in the
// portable build, an item that travelled through the socket is held aside
// until the commit: see sock_stream.go). A shutdown state in the header
// ends the queue for every process (shutdown.go), and a table of
// the processes holding items lets Join notice a dead consumer
// (holders.go).
//
// The mp package wraps a Core into the typed queues and maps the errors
// here to its sentinels.
package queue
