// Command mpcluster runs a JetStream engine for mp's cluster package, and
// shows what runs on one.
//
// Usage:
//
//	mpcluster serve -listen host:port -dir D -key-file F [-tls-cert C -tls-key K [-tls-ca CA]] [-sync-always]
//	mpcluster status -url U -key-file F [-tls-ca CA [-tls-cert C -tls-key K]] [-all]
//	mpcluster tour [-list | -python] [name ...]
//
// serve runs an engine until SIGINT or SIGTERM, then stops it cleanly. It
// prints the URL it listens on, on a line of its own on standard output,
// once the engine takes connections; its logs go to standard error. An
// address off loopback needs TLS (-tls-cert and -tls-key); -tls-ca makes
// it require client certificates of that CA (mutual TLS).
//
// status connects and prints the engine's state: the server, its
// JetStream usage, each stream of mp with its messages, and each consumer
// with its pending and acknowledgement-pending messages. For a pool's task
// stream (MPPOOL_<pool>), the consumer's pending messages are the tasks
// queued and its acknowledgement-pending ones the tasks running; a last
// table sums them per pool. -all shows every stream, not only mp's.
//
// tour runs the cluster module's examples, as `mp tour` runs the core's:
// the seeds' distributed task master and workers, and Pools, queues and
// locks on the engine, each with processes of this program.
//
// The exit code is 0 on success, 1 on failure, 2 for a usage error and 3
// when the engine refuses the key.
package main

import (
	"context"
	"os"

	"github.com/mpgo/mp/cluster"
)

func main() {
	cluster.Main()
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
