package manager

import (
	"context"
	"log/slog"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/logrelay"
)

// A server that Start runs in a process of its own logs through the pipe
// it reported its address on; the starting process passes each record to
// Options.Logger (package logrelay).

// relayTo is the logger of a server's process: its records go to the
// process that started it, on to.
func relayTo(to *mp.Conn) *slog.Logger {
	return slog.New(logrelay.NewHandler(func(ctx context.Context, r logrelay.Record) error { return to.Send(ctx, r) }))
}

// relayLogs passes the records arriving on r to logger until the server's
// process closes its end, then closes r and done.
func relayLogs(r *mp.Conn, logger *slog.Logger, done chan struct{}) {
	defer close(done)
	defer r.Close()
	for {
		var rec logrelay.Record
		if err := r.Recv(context.Background(), &rec); err != nil {
			return
		}
		rec.Log(logger)
	}
}
