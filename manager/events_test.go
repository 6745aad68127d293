package manager_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp/manager"
	"github.com/mpgo/mp/mptest"
)

// recorder is a slog.Handler that hands every record to a channel, so that
// a test waits for the record it expects instead of sleeping.
type recorder struct {
	records chan slog.Record
	attrs   []slog.Attr // added by WithAttrs
}

func newRecorder() *recorder { return &recorder{records: make(chan slog.Record, 64)} }

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	rec = rec.Clone()
	rec.AddAttrs(r.attrs...)
	r.records <- rec
	return nil
}
func (r *recorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &recorder{records: r.records, attrs: append(slices.Clip(r.attrs), as...)}
}
func (r *recorder) WithGroup(string) slog.Handler { return r }

// next waits for the next record and returns its level, message and
// attributes.
func (r *recorder) next(t *testing.T) (slog.Level, string, map[string]string) {
	t.Helper()
	select {
	case rec := <-r.records:
		attrs := map[string]string{}
		rec.Attrs(func(a slog.Attr) bool {
			attrs[a.Key] = a.Value.String()
			return true
		})
		return rec.Level, rec.Message, attrs
	case <-time.After(20 * time.Second):
		t.Fatal("no log record after 20 s")
		return 0, "", nil
	}
}

// TestSecurityEvents: a wrong key, a garbage answer to the hello and a
// client that says nothing until the handshake's deadline each give a
// Warn record naming the peer and the reason.
func TestSecurityEvents(t *testing.T) {
	mptest.CheckLeaks(t)
	rec := newRecorder()
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: []byte("right"), Logger: slog.New(rec)})
	addr := inProcess(t, srv, "")
	// A server whose handshakes end soon, for the client that says nothing.
	impatient := manager.NewServer(&manager.ServerOptions{AuthKey: []byte("right"), Logger: slog.New(rec),
		Limits: manager.Limits{IOTimeout: 50 * time.Millisecond}})
	impatientAddr := inProcess(t, impatient, "")
	connect := func(addr string) net.Conn {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		return nc
	}
	for _, tc := range []struct {
		name   string
		client func() string // makes the event, returns the local address
		reason string
	}{
		{"wrong key", func() string {
			_, err := manager.Dial(testCtx(t), addr, &manager.DialOptions{AuthKey: []byte("wrong")})
			if !errors.Is(err, manager.ErrAuthentication) {
				t.Errorf("Dial with the wrong key = %v", err)
			}
			return ""
		}, "authentication failed"},
		{"garbage", func() string {
			nc := connect(addr)
			nc.Write([]byte(strings.Repeat("garbage!", 20)))
			return nc.LocalAddr().String()
		}, "malformed handshake answer"},
		{"silent", func() string {
			return connect(impatientAddr).LocalAddr().String()
		}, "timeout"},
	} {
		local := tc.client()
		level, msg, attrs := rec.next(t)
		if level != slog.LevelWarn || !strings.Contains(msg, "handshake failed") || !strings.Contains(attrs["err"], tc.reason) {
			t.Errorf("%s: record %v %q %v, want a Warn of a failed handshake for %q", tc.name, level, msg, attrs, tc.reason)
		}
		if local != "" && attrs["remote"] != local {
			t.Errorf("%s: remote = %q, want the client's address %s", tc.name, attrs["remote"], local)
		}
	}
	// A peer on a Unix socket has no address: the record names its process.
	onUnix := manager.NewServer(&manager.ServerOptions{AuthKey: []byte("right"), Logger: slog.New(rec)})
	unixAddr := inProcess(t, onUnix, fmt.Sprintf("@mp-test-events-%d", os.Getpid()))
	if _, err := manager.Dial(testCtx(t), unixAddr, &manager.DialOptions{AuthKey: []byte("wrong")}); !errors.Is(err, manager.ErrAuthentication) {
		t.Errorf("Dial over a Unix socket with the wrong key = %v", err)
	}
	_, _, attrs := rec.next(t)
	if want := fmt.Sprintf("unix pid %d uid %d", os.Getpid(), os.Getuid()); attrs["remote"] != want {
		t.Errorf("remote of a Unix peer = %q, want %q", attrs["remote"], want)
	}
}

// TestStartLogger: the records of a server that Start runs in a process of
// its own reach Options.Logger in the starting process.
func TestStartLogger(t *testing.T) {
	mptest.CheckLeaks(t)
	rec := newRecorder()
	c := start(t, &manager.Options{Address: "127.0.0.1:0", AuthKey: []byte("right"), Logger: slog.New(rec)})
	if _, err := manager.Dial(testCtx(t), c.Addr(), &manager.DialOptions{AuthKey: []byte("wrong")}); !errors.Is(err, manager.ErrAuthentication) {
		t.Fatalf("Dial with the wrong key = %v", err)
	}
	pid, err := c.Ping(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	level, msg, attrs := rec.next(t)
	if level != slog.LevelWarn || !strings.Contains(msg, "handshake failed") || !strings.Contains(attrs["err"], "authentication failed") ||
		attrs["remote"] == "" || attrs["pid"] != strconv.Itoa(pid) {
		t.Errorf("record %v %q %v, want the server's Warn of a failed handshake", level, msg, attrs)
	}
}

// TestNilClient: every call through a nil *Client, a Start or Dial whose
// error went unchecked, returns ErrNilClient instead of panicking.
func TestNilClient(t *testing.T) {
	ctx := testCtx(t)
	var c *manager.Client
	for name, call := range map[string]func() error{
		"Ping":     func() error { _, err := c.Ping(ctx); return err },
		"Close":    c.Close,
		"Shutdown": func() error { return c.Shutdown(ctx) },
		"Lookup":   func() error { _, err := manager.Lookup[manager.Queue[int]](ctx, c, "q"); return err },
		"NewDict":  func() error { _, err := manager.NewDict[string, int](ctx, c, nil); return err },
		"NewList":  func() error { _, err := manager.NewList[int](ctx, c, nil); return err },
		"NewArray": func() error { _, err := manager.NewArray(ctx, c, []int{1}); return err },
		"NewQueue": func() error { _, err := manager.NewQueue[int](ctx, c, 0); return err },
		"NewJoinableQueue": func() error {
			_, err := manager.NewJoinableQueue[int](ctx, c, 0)
			return err
		},
		"NewMutex":            func() error { _, err := manager.NewMutex(ctx, c); return err },
		"NewReentrantLock":    func() error { _, err := manager.NewReentrantLock(ctx, c); return err },
		"NewSemaphore":        func() error { _, err := manager.NewSemaphore(ctx, c, 1); return err },
		"NewBoundedSemaphore": func() error { _, err := manager.NewBoundedSemaphore(ctx, c, 1); return err },
		"NewCond":             func() error { _, err := manager.NewCond(ctx, c, nil); return err },
		"NewEvent":            func() error { _, err := manager.NewEvent(ctx, c); return err },
		"NewBarrier":          func() error { _, err := manager.NewBarrier(ctx, c, 2); return err },
		"NewValue":            func() error { _, err := manager.NewValue(ctx, c, 1); return err },
		"NewNamespace":        func() error { _, err := manager.NewNamespace(ctx, c); return err },
	} {
		if err := call(); !errors.Is(err, manager.ErrNilClient) {
			t.Errorf("%s on a nil Client = %v, want ErrNilClient", name, err)
		}
	}
	if a := c.Addr(); a != "" {
		t.Errorf("Addr of a nil Client = %q", a)
	}
}
