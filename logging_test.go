package mp_test

import (
	"bytes"
	"context"
	"errors"
	"log"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

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

// mp's own diagnostics reach the logger given to SetLogger: a pool worker
// that died, a task stopped by killing its worker.
func TestPoolDiagnosticsReachLogger(t *testing.T) {
	mptest.CheckLeaks(t)
	var buf strings.Builder
	mp.SetLogger(slog.New(slog.NewTextHandler(&syncWriter{w: &buf}, nil)))
	defer mp.SetLogger(nil)
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 1})
	f, wpid, _ := startHang(t, ctx, p, "kill", false)
	if _, err := f.Get(ctx); !errors.Is(err, mp.ErrWorkerDied) {
		t.Fatalf("task whose worker killed itself: %v", err)
	}
	t.Cleanup(mp.SetKillGrace(10 * time.Millisecond))
	dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := mp.Apply(dctx, p, poolSleep, time.Minute); !errors.Is(err, mp.ErrTimeout) {
		t.Fatalf("task past its deadline: %v", err)
	}
	p.Close()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"level=WARN msg=\"mp: pool worker died\" pid=" + strconv.Itoa(wpid), "msg=\"mp: pool task stopped: worker killed\""} {
		if !strings.Contains(out, want) {
			t.Errorf("the logger got\n%s\nwithout %q", out, want)
		}
	}
}
