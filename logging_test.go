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
	out := &syncWriter{w: new(bytes.Buffer)}
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 1})
	// The handler uses the pool: the pool must not log under its lock.
	mp.SetLogger(slog.New(usePool{slog.NewTextHandler(out, nil), p}))
	defer mp.SetLogger(nil)
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
	// Records are logged once the pool's lock is released, by whichever
	// of its goroutines gets there first: wait for them.
	for _, want := range []string{"level=WARN msg=\"mp: pool worker died\" pid=" + strconv.Itoa(wpid), "msg=\"mp: pool task stopped: worker killed\""} {
		waitUntil(t, "the logger gets "+want, func() bool { return strings.Contains(out.String(), want) })
	}
}

// usePool is a log handler that looks at a pool for every record.
type usePool struct {
	slog.Handler
	p *mp.Pool
}

func (h usePool) Handle(ctx context.Context, r slog.Record) error {
	mp.PoolRunning(h.p)
	return h.Handler.Handle(ctx, r)
}

// A lock taken over from an owner that died is reported to the logger
// given to SetLogger.
func TestOwnerDeathReachesLogger(t *testing.T) {
	mptest.CheckLeaks(t)
	out := &syncWriter{w: new(bytes.Buffer)}
	mp.SetLogger(slog.New(slog.NewTextHandler(out, nil)))
	defer mp.SetLogger(nil)
	m, err := mp.NewMutex()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	killHolder(t, holdArgs{Mutex: m})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := m.Lock(ctx); !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("Lock after the holder died = %v, want ErrOwnerDead", err)
	}
	m.Unlock()
	if got := out.String(); !strings.Contains(got, `level=WARN msg="mp: the owner of a Mutex died holding it; this process took it over"`) {
		t.Errorf("the logger got %q", got)
	}
}
