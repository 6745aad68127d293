package cluster

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/mpgo/mp/internal/diag"
)

// logAdapter routes the engine's logs to slog: notices at Info, warnings
// at Warn, errors and fatal errors at Error (the engine's debug and trace
// records are off).
type logAdapter struct {
	l *slog.Logger // nil: mp's logger at the time of each record
	// fatal receives the first fatal record, which the engine reports
	// instead of returning an error (a port in use, a store it cannot open).
	fatal chan string
}

func newLogAdapter(l *slog.Logger) *logAdapter {
	return &logAdapter{l: l, fatal: make(chan string, 1)}
}

func (a *logAdapter) log(level slog.Level, format string, v []any) {
	l := a.l
	if l == nil {
		l = diag.Logger()
	}
	if !l.Enabled(context.Background(), level) {
		return
	}
	l.Log(context.Background(), level, fmt.Sprintf(format, v...), "engine", "nats")
}

func (a *logAdapter) Noticef(format string, v ...any) { a.log(slog.LevelInfo, format, v) }
func (a *logAdapter) Warnf(format string, v ...any)   { a.log(slog.LevelWarn, format, v) }
func (a *logAdapter) Errorf(format string, v ...any)  { a.log(slog.LevelError, format, v) }
func (a *logAdapter) Debugf(format string, v ...any)  { a.log(slog.LevelDebug, format, v) }
func (a *logAdapter) Tracef(format string, v ...any)  { a.log(slog.LevelDebug-4, format, v) }

func (a *logAdapter) Fatalf(format string, v ...any) {
	a.log(slog.LevelError, format, v)
	select {
	case a.fatal <- fmt.Sprintf(format, v...):
	default:
	}
}
