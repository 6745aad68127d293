package proc

import (
	"context"
	"log/slog"
	"time"

	"github.com/mpgo/mp/internal/diag"
	"github.com/mpgo/mp/internal/transport"
	"github.com/mpgo/mp/internal/wire"
)

// In a child, slog.Default() (and so the log package) forwards every record
// to the parent over the child's control socket. The parent hands each
// record to its record logger (see package diag) with the attributes pid
// and process added, in the order the child emitted them. Records below
// that logger's level are not sent.

// logRecord is a slog record on the wire.
type logRecord struct {
	Time    time.Time
	Level   int
	Message string
	Attrs   []logAttr
}

type logAttr struct {
	Key   string
	Value any
}

// forwarder is the slog handler of a child: it sends records to the parent.
type forwarder struct {
	ctl   *transport.Conn
	level slog.Level
	attrs []logAttr
	group string
}

func (f *forwarder) Enabled(_ context.Context, l slog.Level) bool { return l >= f.level }

func (f *forwarder) Handle(ctx context.Context, r slog.Record) error {
	rec := logRecord{Time: r.Time, Level: int(r.Level), Message: r.Message, Attrs: append([]logAttr(nil), f.attrs...)}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs = appendAttr(rec.Attrs, f.group, a)
		return true
	})
	data, _, err := wire.Marshal(rec)
	if err != nil {
		return err
	}
	return f.ctl.Send(context.Background(), transport.Msg{Kind: ctlLog, Data: data})
}

func (f *forwarder) WithAttrs(as []slog.Attr) slog.Handler {
	g := *f
	g.attrs = append([]logAttr(nil), f.attrs...)
	for _, a := range as {
		g.attrs = appendAttr(g.attrs, f.group, a)
	}
	return &g
}

func (f *forwarder) WithGroup(name string) slog.Handler {
	g := *f
	g.group = join(f.group, name)
	return &g
}

// appendAttr flattens a into key/value pairs with dotted keys for groups,
// keeping basic kinds and turning anything else into its text.
func appendAttr(out []logAttr, group string, a slog.Attr) []logAttr {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, ga := range v.Group() {
			out = appendAttr(out, join(group, a.Key), ga)
		}
		return out
	}
	var val any
	switch v.Kind() {
	case slog.KindString, slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindBool, slog.KindTime, slog.KindDuration:
		val = v.Any()
	default:
		val = v.String()
	}
	return append(out, logAttr{Key: join(group, a.Key), Value: val})
}

func join(group, key string) string {
	if group == "" {
		return key
	}
	return group + "." + key
}

// handleLog passes a record forwarded by a child to the record logger.
func handleLog(data []byte, pid int, name string) {
	var rec logRecord
	if wire.Unmarshal(data, nil, &rec) != nil {
		return
	}
	h := diag.Records().Handler()
	level := slog.Level(rec.Level)
	if !h.Enabled(context.Background(), level) {
		return
	}
	r := slog.NewRecord(rec.Time, level, rec.Message, 0)
	r.AddAttrs(slog.Int("pid", pid), slog.String("process", name))
	for _, a := range rec.Attrs {
		r.AddAttrs(slog.Any(a.Key, a.Value))
	}
	h.Handle(context.Background(), r)
}
