package cluster

import (
	"context"
	"log/slog"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/diag"
)

// relayHandler sends the log records of the engine's process to the
// process that started it, which passes them to its logger.
type relayHandler struct {
	to    *mp.Conn
	attrs []string
}

func (h *relayHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *relayHandler) Handle(ctx context.Context, r slog.Record) error {
	m := engineMsg{Level: r.Level, Msg: r.Message, Attrs: append([]string(nil), h.attrs...)}
	r.Attrs(func(a slog.Attr) bool {
		m.Attrs = append(m.Attrs, a.Key, a.Value.String())
		return true
	})
	// A parent that stopped reading must not stall the engine.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	return h.to.Send(ctx, m)
}

func (h *relayHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &relayHandler{to: h.to, attrs: append([]string(nil), h.attrs...)}
	for _, a := range as {
		n.attrs = append(n.attrs, a.Key, a.Value.String())
	}
	return n
}

func (h *relayHandler) WithGroup(string) slog.Handler { return h }

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
		m.log(logger)
	}
}

// log passes the record m to logger.
func (m *engineMsg) log(logger *slog.Logger) {
	args := make([]any, 0, len(m.Attrs)/2)
	for i := 0; i+1 < len(m.Attrs); i += 2 {
		args = append(args, slog.String(m.Attrs[i], m.Attrs[i+1]))
	}
	logger.Log(context.Background(), m.Level, m.Msg, args...)
}

// mpLogger is mp's logger, where the engine logs when Options.Logger is
// nil.
func mpLogger() *slog.Logger { return diag.Logger() }
