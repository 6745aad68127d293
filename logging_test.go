package mp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
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

// mp's own diagnostics reach the logger given to SetLogger, with what
// tells one worker and task from another: a warning when a pool worker
// dies and is replaced, or is killed at its task's deadline or the pool's
// task timeout; a debug record when a worker starts or exits normally.
func TestPoolDiagnosticsReachLogger(t *testing.T) {
	mptest.CheckLeaks(t)
	t.Cleanup(mp.SetKillGrace(10 * time.Millisecond))
	ctx := context.Background()
	p := newPool(t, mp.PoolOptions{Processes: 1})
	rec := newRecorder(t)
	// The handler uses the pool: the pool must not log under its lock.
	mp.SetLogger(slog.New(usePool{rec, p}))
	defer mp.SetLogger(nil)
	f, wpid, _ := startHang(t, ctx, p, "kill", false)
	if _, err := f.Get(ctx); !errors.Is(err, mp.ErrWorkerDied) {
		t.Fatalf("task whose worker killed itself: %v", err)
	}
	rec.want(t, slog.LevelWarn, "mp: pool worker died", map[string]any{"worker": "PoolWorker-1", "worker_pid": int64(wpid),
		"code": int64(-9), "signal": "killed", "func": "test.pool.hang", "task_failed": true, "replaced": true})
	started := rec.want(t, slog.LevelDebug, "mp: pool worker started", map[string]any{"worker": "PoolWorker-2"})

	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	deadline, _ := dctx.Deadline()
	f, _, _ = startHang(t, dctx, p, "sleep", false)
	if _, err := f.Get(ctx); !errors.Is(err, mp.ErrTimeout) {
		t.Fatalf("task past its deadline: %v", err)
	}
	rec.want(t, slog.LevelWarn, "mp: pool worker killed: its task ran past its deadline", map[string]any{"worker": "PoolWorker-2",
		"worker_pid": started.attrs["worker_pid"], "func": "test.pool.hang", "deadline": deadline, "grace": 10 * time.Millisecond})
	rec.want(t, slog.LevelDebug, "mp: pool worker exited: killed by the pool", map[string]any{"worker": "PoolWorker-2", "signal": "killed"})
	// The pool replaces it while it runs: close it only then.
	rec.want(t, slog.LevelDebug, "mp: pool worker started", map[string]any{"worker": "PoolWorker-3"})

	cctx, ccancel := context.WithCancel(ctx)
	f, _, _ = startHang(t, cctx, p, "sleep", false)
	ccancel()
	if _, err := f.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled task: %v", err)
	}
	rec.want(t, slog.LevelWarn, "mp: pool worker killed: its task was cancelled and did not return", map[string]any{"worker": "PoolWorker-3",
		"func": "test.pool.hang", "grace": 10 * time.Millisecond})
	rec.want(t, slog.LevelDebug, "mp: pool worker started", map[string]any{"worker": "PoolWorker-4"})
	p.Close()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	rec.want(t, slog.LevelDebug, "mp: pool worker exited: the pool is closed", map[string]any{"worker": "PoolWorker-4", "code": int64(0)})

	p = newPool(t, mp.PoolOptions{Processes: 1, TaskTimeout: 200 * time.Millisecond})
	mp.SetLogger(slog.New(usePool{rec, p}))
	f, _, _ = startHang(t, ctx, p, "sleep", false)
	if _, err := f.Get(ctx); !errors.Is(err, mp.ErrTimeout) {
		t.Fatalf("task past the task timeout: %v", err)
	}
	rec.want(t, slog.LevelWarn, "mp: pool worker killed: its task ran past the task timeout", map[string]any{"worker": "PoolWorker-1",
		"func": "test.pool.hang", "timeout": 200 * time.Millisecond})
}

// record is a log record as a recorder keeps it.
type record struct {
	level slog.Level
	msg   string
	attrs map[string]any
}

// recorder is a log handler that keeps every record, at every level.
type recorder struct {
	mu   sync.Mutex
	recs []record
}

// newRecorder returns a recorder that shows its records if t fails.
func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	t.Cleanup(func() {
		if t.Failed() {
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Logf("records: %+v", r.recs)
		}
	})
	return r
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *recorder) Handle(_ context.Context, sr slog.Record) error {
	rec := record{level: sr.Level, msg: sr.Message, attrs: map[string]any{}}
	sr.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.Resolve().Any()
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
	return nil
}

func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { panic("recorder: WithAttrs not supported") }
func (r *recorder) WithGroup(string) slog.Handler      { panic("recorder: WithGroup not supported") }

// want waits for a record of level and msg whose attributes include
// attrs, and returns it. Records are logged once the pool's lock is
// released, by whichever of its goroutines gets there first, so they may
// come after the outcome that caused them.
func (r *recorder) want(t *testing.T, level slog.Level, msg string, attrs map[string]any) record {
	t.Helper()
	var found record
	waitUntil(t, fmt.Sprintf("a record %s %q %v", level, msg, attrs), func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, rec := range r.recs {
			if rec.level == level && rec.msg == msg && hasAttrs(rec.attrs, attrs) {
				found = rec
				return true
			}
		}
		return false
	})
	return found
}

// hasAttrs reports whether got includes every attribute of want.
func hasAttrs(got, want map[string]any) bool {
	for k, v := range want {
		g, ok := got[k]
		if tv, isTime := v.(time.Time); isTime {
			gt, ok := g.(time.Time)
			if !ok || !gt.Equal(tv) {
				return false
			}
			continue
		}
		if !ok || g != v {
			return false
		}
	}
	return true
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
	if got := out.String(); !strings.Contains(got, `level=WARN msg="mp: the owner of a Mutex died holding it; this process took it over" lock=Mutex pid=`+strconv.Itoa(os.Getpid())+` process=MainProcess`) {
		t.Errorf("the logger got %q", got)
	}
}

// lockAfterDeath takes a Mutex whose owner died, and reports whether it
// was told so.
var lockAfterDeath = mp.Register("test.lockAfterDeath", func(ctx context.Context, m *mp.Mutex) (bool, error) {
	err := m.Lock(ctx)
	if err != nil && !errors.Is(err, mp.ErrOwnerDead) {
		return false, err
	}
	m.Unlock()
	return err != nil, nil
})

// A lock taken over in a child is reported to the logger given to
// SetLogger in the parent, with the child's pid and name.
func TestOwnerDeathInChildReachesLogger(t *testing.T) {
	mptest.CheckLeaks(t)
	rec := newRecorder(t)
	mp.SetLogger(slog.New(rec))
	defer mp.SetLogger(nil)
	m, err := mp.NewMutex()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	killHolder(t, holdArgs{Mutex: m})
	p := mp.Command(lockAfterDeath, m)
	p.Name = "recoverer"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if told, err := mp.Result[bool](p); !told || err != nil {
		t.Fatalf("the child's Lock after the holder died: told %v, %v; want ErrOwnerDead", told, err)
	}
	// The child's records are handled before its Wait returns.
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := map[string]any{"lock": "Mutex", "pid": int64(p.Pid()), "process": "recoverer"}
	for _, r := range rec.recs {
		if r.level == slog.LevelWarn && r.msg == "mp: the owner of a Mutex died holding it; this process took it over" && hasAttrs(r.attrs, want) {
			if len(r.attrs) != len(want) {
				t.Errorf("record attributes %v, want only %v", r.attrs, want)
			}
			return
		}
	}
	t.Errorf("no record of the take-over with %v", want)
}
