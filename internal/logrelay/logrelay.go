// Package logrelay carries log records from a child process to the
// process that started it, over a channel of the caller's (an mp.Conn): a
// manager's or an engine's server process logs through it, and the
// starting process passes each record to the logger it was given. (A
// child's slog.Default would go to the parent's own record logger instead,
// not to the logger given for that server.)
package logrelay

import (
	"context"
	"log/slog"
	"time"
)

// Record is a log record on its way.
type Record struct {
	_     struct{} `cbor:",toarray"`
	Level slog.Level
	Msg   string
	Attrs []string // keys and values, alternately
}

// Log passes the record to l.
func (r *Record) Log(l *slog.Logger) {
	args := make([]any, 0, len(r.Attrs)/2)
	for i := 0; i+1 < len(r.Attrs); i += 2 {
		args = append(args, slog.String(r.Attrs[i], r.Attrs[i+1]))
	}
	l.Log(context.Background(), r.Level, r.Msg, args...)
}

// Handler is a slog.Handler that sends every record on.
type Handler struct {
	send  func(context.Context, Record) error
	attrs []string
}

// NewHandler returns a Handler that gives each record to send, which has
// a second to send it: a reader that stopped reading must not stall the
// process that logs.
func NewHandler(send func(context.Context, Record) error) *Handler {
	return &Handler{send: send}
}

// Enabled implements slog.Handler: every level goes on, and the receiving
// logger filters.
func (h *Handler) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	rec := Record{Level: r.Level, Msg: r.Message, Attrs: append([]string(nil), h.attrs...)}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs = append(rec.Attrs, a.Key, a.Value.String())
		return true
	})
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	return h.send(ctx, rec)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &Handler{send: h.send, attrs: append([]string(nil), h.attrs...)}
	for _, a := range as {
		n.attrs = append(n.attrs, a.Key, a.Value.String())
	}
	return n
}

// WithGroup implements slog.Handler; groups are flattened.
func (h *Handler) WithGroup(string) slog.Handler { return h }
