package cluster

import (
	"context"
	"log/slog"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/logrelay"
)

// relayTo is the logger of the engine's process: its records go to the
// process that started it, on to.
func relayTo(to *mp.Conn) *slog.Logger {
	return slog.New(logrelay.NewHandler(func(ctx context.Context, r logrelay.Record) error {
		return to.Send(ctx, engineMsg{Log: r})
	}))
}

// relayLogs passes the records arriving on r to logger until the engine's
// process closes its end, then closes r and done.
func relayLogs(r *mp.Conn, logger *slog.Logger, done chan struct{}) {
	defer close(done)
	defer r.Close()
	for {
		var m engineMsg
		if err := r.Recv(context.Background(), &m); err != nil {
			return
		}
		m.Log.Log(logger)
	}
}
