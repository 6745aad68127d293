package process

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Topic: "process", Name: "process-logging", Title: "a child's slog records reach the parent's handler, naming the child", Run: logging})
}

// resize logs through slog.Default(), as any Go code does; in a child,
// mp forwards each record to the parent.
var resize = mp.Register("examples.process.resize", func(_ context.Context, file string) (struct{}, error) {
	log := slog.Default().With("file", file)
	log.Info("resizing", "width", 640)
	log.Debug("a detail below the parent's level, never sent")
	log.Warn("no colour profile, assuming sRGB")
	fmt.Fprintln(os.Stderr, "plain text on stderr still arrives, line by line")
	return struct{}{}, nil
})

// logging is Python's multiprocessing.log_to_stderr() in Go form: the
// parent chooses the handler with mp.SetLogger, and every record a child
// emits reaches it, in order, with pid and process attributes naming the
// child.
func logging(ctx context.Context, w io.Writer) error {
	h := slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelInfo,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keep the tour's output short
			}
			return a
		},
	})
	mp.SetLogger(slog.New(h))
	defer mp.SetLogger(nil)
	p := mp.Command(resize, "cat.png")
	p.Name = "resizer"
	p.Stderr = w
	return p.Run(ctx)
}
