// Package cluster runs mp's pools, queues and shared state past one
// machine, on NATS JetStream.
//
// A Cluster is a connection to a JetStream engine: Start runs one — by
// default embedded in this process, with a file store — and Connect joins
// one that runs elsewhere. On it, a Pool is an mp.Executor whose tasks go
// to worker machines through a work-queue stream, so that mp.Apply, Map,
// Imap and the rest run there unchanged; Queue, Dict, Value, Lock and the
// other types carry the manager's shared state.
//
// Workers are the user's own binary: its main calls cluster.Main, which is
// mp.Main plus a worker mode, entered when the program is started with the
// join variables set (see Main). A worker runs each task in a local
// mp.Pool of real processes, so deadlines, crashes and recycling behave as
// on one machine.
//
// Delivery is at least once: a task whose worker machine dies or is cut
// off is delivered again, up to a limit, and a result that comes twice is
// kept once. docs/cluster.md in the repository says what each failure
// loses.
//
// This package is its own module, so that programs that use mp on one
// machine do not build NATS.
package cluster
