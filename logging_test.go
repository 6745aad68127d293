package mp_test

import (
	"bytes"
	"context"
	"log"
	"log/slog"
	"strings"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

var chatty = mp.Register("test.chatty", func(ctx context.Context, n int) (struct{}, error) {
	logger := slog.Default().With("worker", "w1")
	for i := range n {
		logger.Info("step", "i", i, slog.Group("req", "id", 7))
	}
	slog.Debug("quiet detail")
	log.Printf("plain log line")
	return struct{}{}, nil
})

func TestChildLogsReachParent(t *testing.T) {
	mptest.CheckLeaks(t)
	var buf bytes.Buffer
	mp.SetLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	defer mp.SetLogger(nil)
	p := mp.Command(chatty, 5)
	p.Name = "logger-child"
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d records, want 5 steps and the log line:\n%s", len(lines), buf.String())
	}
	for i, l := range lines[:5] {
		for _, want := range []string{"msg=step", "worker=w1", "req.id=7", "process=logger-child", "pid=", "i=" + string(rune('0'+i))} {
			if !strings.Contains(l, want) {
				t.Errorf("record %d = %q, lacks %q (or out of order)", i, l, want)
			}
		}
	}
	if !strings.Contains(lines[5], "plain log line") {
		t.Errorf("log package output not forwarded: %q", lines[5])
	}
	if strings.Contains(buf.String(), "quiet detail") {
		t.Error("a debug record passed an info-level logger")
	}
}
