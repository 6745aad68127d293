package manager

import (
	"context"
	"log/slog"
	"time"

	"github.com/mpgo/mp"
)

// A server that Start runs in a process of its own logs through the pipe
// it reported its address on; the starting process passes each record to
// Options.Logger. (The child's slog.Default would go to the parent's
// record logger instead, and not to the logger given for this server.)

// logRecord is a log record on its way from the server's process.
type logRecord struct {
	_     struct{} `cbor:",toarray"`
	Level slog.Level
	Msg   string
	Attrs []string // keys and values, alternately
}

// relayHandler sends the records of a server's process to the process
// that started it.
type relayHandler struct {
	to    *mp.Conn
	attrs []string
}

func (h *relayHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *relayHandler) Handle(ctx context.Context, r slog.Record) error {
	rec := logRecord{Level: r.Level, Msg: r.Message, Attrs: append([]string(nil), h.attrs...)}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs = append(rec.Attrs, a.Key, a.Value.String())
		return true
	})
	// A starter that stopped reading must not stall the server.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	return h.to.Send(ctx, rec)
}

func (h *relayHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &relayHandler{to: h.to, attrs: append([]string(nil), h.attrs...)}
	for _, a := range as {
		n.attrs = append(n.attrs, a.Key, a.Value.String())
	}
	return n
}

func (h *relayHandler) WithGroup(string) slog.Handler { return h }

// relayLogs passes the records arriving on r to logger until the server's
// process closes its end, then closes r and done.
func relayLogs(r *mp.Conn, logger *slog.Logger, done chan struct{}) {
	defer close(done)
	defer r.Close()
	for {
		var rec logRecord
		if err := r.Recv(context.Background(), &rec); err != nil {
			return
		}
		args := make([]any, 0, len(rec.Attrs))
		for i := 0; i+1 < len(rec.Attrs); i += 2 {
			args = append(args, slog.String(rec.Attrs[i], rec.Attrs[i+1]))
		}
		logger.Log(context.Background(), rec.Level, rec.Msg, args...)
	}
}
