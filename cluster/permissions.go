package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// workerPermissions are what the worker identity may publish and
// subscribe to: what a Pool's worker needs, and nothing else. It pulls
// tasks from the workers' consumer of a pool, reads that consumer's
// settings, acknowledges and confirms the tasks it holds, publishes
// results, renews its key in the presence bucket, hears the pool's
// control messages, and receives the replies to all of that in its
// inboxes. It cannot create, change, purge or delete a stream or
// consumer, read a stream, or publish anywhere else: the submitter, a
// client, creates the pool's parts.
func workerPermissions() *server.Permissions {
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			"$JS.API.CONSUMER.MSG.NEXT.*." + workersConsumer,
			"$JS.API.CONSUMER.INFO.*." + workersConsumer,
			"$JS.ACK.*." + workersConsumer + ".>",
			"mp.pool.*.result.*",
			"$KV." + presenceBucket + ".>",
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{
			"_INBOX.>",
			"mp.pool.*.control",
		}},
	}
}

// guardPermission runs fn, a series of requests to the engine, and
// returns early with an error matching ErrPermission if the engine
// refuses one of its publishes. A refused publish gets no reply, only an
// error the engine sends on the side: without this, fn would wait for its
// context's end.
func guardPermission(ctx context.Context, nc *nats.Conn, fn func(context.Context) error) error {
	before := nc.LastError()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- fn(ctx) }()
	tick := time.NewTicker(permissionPoll)
	defer tick.Stop()
	for {
		select {
		case err := <-errc:
			if perr := denied(nc, before); perr != nil && err != nil {
				return perr
			}
			return err
		case <-tick.C:
			if perr := denied(nc, before); perr != nil {
				cancel()
				<-errc
				return perr
			}
		}
	}
}

// permissionPoll is how often guardPermission looks for a refusal.
const permissionPoll = 20 * time.Millisecond

// denied returns an error matching ErrPermission if the connection's last
// error is a refusal that came after before.
func denied(nc *nats.Conn, before error) error {
	err := nc.LastError()
	if err == nil || err == before || !errors.Is(err, nats.ErrPermissionViolation) {
		return nil
	}
	return permissionErr(err)
}

// permissionErr turns the client's report of a refusal into one of this
// package's errors.
func permissionErr(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "Permissions Violation"); i >= 0 {
		msg = msg[i:]
	}
	return fmt.Errorf("%w: %s", ErrPermission, msg)
}
