package cluster_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
	"github.com/mpgo/mp/mptest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// recorder is a slog.Handler that keeps the records it gets and tells
// waiters about those that contain a given text.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
	waiters []recWaiter
}

type recWaiter struct {
	level slog.Level
	text  string
	ch    chan slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	r.notifyLocked(rec)
	return nil
}

func (r *recorder) notifyLocked(rec slog.Record) {
	kept := r.waiters[:0]
	for _, w := range r.waiters {
		if rec.Level == w.level && strings.Contains(rec.Message, w.text) {
			w.ch <- rec.Clone()
			continue
		}
		kept = append(kept, w)
	}
	r.waiters = kept
}

// await returns a channel that gets the first record, past or future, at
// level whose message contains text.
func (r *recorder) await(level slog.Level, text string) <-chan slog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan slog.Record, 1)
	for _, rec := range r.records {
		if rec.Level == level && strings.Contains(rec.Message, text) {
			ch <- rec
			return ch
		}
	}
	r.waiters = append(r.waiters, recWaiter{level, text, ch})
	return ch
}

func within(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestProcessEngineSurvivesKill kills the engine's process with SIGKILL:
// the engine starts again on the same store and port, the connection
// comes back by itself, the stream keeps its messages and takes new ones.
func TestProcessEngineSurvivesKill(t *testing.T) {
	mptest.CheckLeaks(t)
	rec := &recorder{}
	c := start(t, &cluster.Options{Process: true, Logger: slog.New(rec)})
	ctx := within(t, 30*time.Second)
	js := c.JetStream()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "KILL", Subjects: []string{"kill.>"}, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := js.Publish(ctx, "kill.a", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	reconnected := make(chan struct{}, 1)
	c.NATS().SetReconnectHandler(func(*nats.Conn) {
		select {
		case reconnected <- struct{}{}:
		default:
		}
	})
	pid := cluster.EnginePID(c)
	if pid == 0 {
		t.Fatal("no engine process")
	}
	died := rec.await(slog.LevelWarn, "died")
	again := rec.await(slog.LevelWarn, "runs again")
	killed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan slog.Record{died, again} {
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatal("no Warn record of the engine's restart")
		}
	}
	select {
	case <-reconnected:
		t.Logf("reconnected %v after the kill", time.Since(killed).Round(time.Millisecond))
	case <-ctx.Done():
		t.Fatal("the connection did not come back")
	}
	if now := cluster.EnginePID(c); now == pid || now == 0 {
		t.Errorf("engine process %d after the restart, was %d", now, pid)
	}
	if _, err := js.Publish(ctx, "kill.a", []byte("y")); err != nil {
		t.Fatalf("publish after the restart: %v", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 4 {
		t.Errorf("the stream holds %d messages after the restart, want 4", info.State.Msgs)
	}
}

// TestProcessEngineClose checks that Close stops the engine's process for
// good, and that a second Close returns the same.
func TestProcessEngineClose(t *testing.T) {
	mptest.CheckLeaks(t)
	c, err := cluster.Start(within(t, 10*time.Second), &cluster.Options{Process: true, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(mp.ActiveChildren()) != 1 {
		t.Fatalf("%d children, want the engine's", len(mp.ActiveChildren()))
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close() = %v", err)
	}
	if n := len(mp.ActiveChildren()); n != 0 {
		t.Errorf("%d children after Close", n)
	}
}

// TestStoreInUse starts a second engine on the store of a running one, in
// this process and in a child process, and expects ErrStoreInUse with
// nothing left running.
func TestStoreInUse(t *testing.T) {
	for _, process := range []bool{false, true} {
		t.Run(map[bool]string{false: "embedded", true: "process"}[process], func(t *testing.T) {
			mptest.CheckLeaks(t)
			c := start(t, &cluster.Options{Process: process})
			dir := cluster.StoreDir(c)
			for _, second := range []bool{false, true} {
				_, err := cluster.Start(within(t, 10*time.Second), &cluster.Options{Dir: dir, Process: second})
				if !errors.Is(err, cluster.ErrStoreInUse) || !errors.Is(err, cluster.ErrEngine) {
					t.Errorf("second engine (process %v) on %s: %v, want ErrStoreInUse", second, dir, err)
				}
			}
		})
	}
}

// TestProcessEngineCloseWhileDown closes a Cluster right after its
// engine's process was killed: Close neither hangs nor leaves a process.
func TestProcessEngineCloseWhileDown(t *testing.T) {
	mptest.CheckLeaks(t)
	c, err := cluster.Start(within(t, 10*time.Second), &cluster.Options{Process: true, Dir: t.TempDir(), Logger: slog.New(&recorder{})})
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(cluster.EnginePID(c), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}

// engineInChild starts an engine's process from a child of the test, and
// sends the engine's pid to the test.
var engineInChild = mp.Register("cluster_test.engineInChild", func(ctx context.Context, a engineInChildArg) (struct{}, error) {
	c, err := cluster.Start(ctx, &cluster.Options{Process: true, Dir: a.Dir})
	if err != nil {
		return struct{}{}, err
	}
	defer c.Close()
	if err := a.Report.Send(ctx, cluster.EnginePID(c)); err != nil {
		return struct{}{}, err
	}
	<-ctx.Done()
	return struct{}{}, nil
})

type engineInChildArg struct {
	Dir    string
	Report *mp.Conn
}

// TestProcessEngineDiesWithParent kills, with SIGKILL, a process that
// started an engine's process: the engine's process ends too.
func TestProcessEngineDiesWithParent(t *testing.T) {
	r, w, err := mp.Pipe(false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := mp.Command(engineInChild, engineInChildArg{Dir: t.TempDir(), Report: w})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	ctx := within(t, 30*time.Second)
	var pid int
	if err := r.Recv(ctx, &pid); err != nil {
		p.Kill()
		t.Fatal(err)
	}
	ended, err := watchExit(pid)
	if err != nil {
		p.Kill()
		t.Fatal(err)
	}
	defer ended.close()
	p.Kill()
	p.Wait(ctx)
	if !ended.wait(t, 30*time.Second) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("the engine's process %d outlived its parent", pid)
	}
}
