package cluster_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
	"github.com/mpgo/mp/mptest"
)

func TestListenAddress(t *testing.T) {
	p := newPKI(t)
	for _, tt := range []struct {
		listen   string
		key      []byte
		tls      bool
		insecure bool // want ErrInsecure
		bad      bool // want a bad-address error
	}{
		{listen: "0.0.0.0:0", insecure: true},
		{listen: "0.0.0.0:0", key: []byte("k"), insecure: true},
		{listen: "0.0.0.0:0", tls: true, insecure: true},
		{listen: ":0", key: []byte("k"), insecure: true},
		{listen: "example.com:4222", key: []byte("k"), insecure: true},
		{listen: "nats://127.0.0.1:4222", bad: true},
		{listen: "127.0.0.1", bad: true},
		{listen: "127.0.0.1:65536", bad: true},
		{listen: "127.0.0.1:x", bad: true},
		{listen: "bad host!:1", bad: true},
		{listen: "localhost:0"},
		{listen: "127.0.0.1:0", tls: true},
		{listen: "0.0.0.0:0", key: []byte("k"), tls: true},
	} {
		t.Run(tt.listen, func(t *testing.T) {
			o := &cluster.Options{Listen: tt.listen, Key: tt.key, Dir: t.TempDir()}
			if tt.tls {
				o.TLS = p.serverTLS
			}
			c, err := cluster.Start(within(t, 10*time.Second), o)
			if err == nil {
				c.Close()
			}
			switch {
			case tt.insecure:
				if !errors.Is(err, cluster.ErrInsecure) || !errors.Is(err, mp.ErrInsecure) {
					t.Errorf("Start() = %v, want ErrInsecure", err)
				}
			case tt.bad:
				if err == nil || errors.Is(err, cluster.ErrInsecure) || errors.Is(err, cluster.ErrEngine) {
					t.Errorf("Start() = %v, want a bad-address error", err)
				}
			case err != nil:
				t.Errorf("Start() = %v", err)
			}
		})
	}
}

// TestStartFails checks that a Start that fails leaves no goroutine, child
// process or descriptor behind.
func TestStartFails(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	// A directory under a regular file cannot be made, by anyone, on any
	// system.
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, process := range []bool{false, true} {
		for _, tt := range []struct {
			name string
			ctx  context.Context
			o    cluster.Options
			want error
		}{
			{"port in use", context.Background(), cluster.Options{Listen: busy.Addr().String()}, cluster.ErrEngine},
			{"ctx canceled", canceled, cluster.Options{}, context.Canceled},
			{"store unusable", context.Background(), cluster.Options{Dir: filepath.Join(notDir, "store")}, cluster.ErrEngine},
		} {
			t.Run(tt.name+map[bool]string{false: "", true: " process"}[process], func(t *testing.T) {
				mptest.CheckLeaks(t)
				tt.o.Process = process
				if tt.o.Dir == "" {
					tt.o.Dir = t.TempDir()
				}
				c, err := cluster.Start(tt.ctx, &tt.o)
				if err == nil {
					c.Close()
					t.Fatal("Start succeeded")
				}
				if !errors.Is(err, tt.want) {
					t.Errorf("Start() = %v, want %v", err, tt.want)
				}
			})
		}
	}
}

func TestConnectUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = cluster.Connect(context.Background(), "nats://"+addr, nil)
	if !errors.Is(err, cluster.ErrEngine) {
		t.Errorf("Connect() = %v, want ErrEngine", err)
	}
}

// TestEngineLogs checks that the engine's records reach Options.Logger,
// from this process and from the engine's own.
func TestEngineLogs(t *testing.T) {
	for _, process := range []bool{false, true} {
		rec := &recorder{}
		ready := rec.await(slog.LevelInfo, "Server is ready")
		start(t, &cluster.Options{Process: process, Logger: slog.New(rec)})
		select {
		case <-ready:
		case <-within(t, 10*time.Second).Done():
			t.Errorf("process %v: no record of the engine's readiness", process)
		}
	}
}

var engineThenSIGTERM = mp.Register("cluster_test.engineThenSIGTERM", func(ctx context.Context, dir string) (struct{}, error) {
	c, err := cluster.Start(ctx, &cluster.Options{Dir: dir})
	if err != nil {
		return struct{}{}, err
	}
	defer c.Close()
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	<-ctx.Done() // a handler would end this process some other way
	return struct{}{}, nil
})

// TestNoSignalHandlers checks that an engine leaves the program's signals
// alone: a process running one still dies of SIGTERM, as it would
// without, rather than the engine catching it and shutting down.
func TestNoSignalHandlers(t *testing.T) {
	p := mp.Command(engineThenSIGTERM, t.TempDir())
	err := p.Run(within(t, 30*time.Second))
	var exit *mp.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("Run() = %v, want an exit by SIGTERM", err)
	}
	if code, _ := p.ExitCode(); code != -int(syscall.SIGTERM) {
		t.Errorf("exit code %d, want %d (killed by SIGTERM)", code, -int(syscall.SIGTERM))
	}
}

// TestDefaultStoreDir checks that an engine given no directory keeps its
// store under the user's cache directory, one directory per program.
func TestDefaultStoreDir(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	c, err := cluster.Start(within(t, 10*time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := filepath.Join(cache, "mp", "cluster", filepath.Base(os.Args[0]))
	if got := cluster.StoreDir(c); got != want {
		t.Errorf("store directory %s, want %s", got, want)
	}
	if _, err := os.Stat(filepath.Join(want, "jetstream")); err != nil {
		t.Errorf("no store in %s: %v", want, err)
	}
}

// TestConnectSilentEngine connects to an address that takes the
// connection and never answers: Connect ends with ctx (before its own
// bound of 2 s), with ErrEngine.
func TestConnectSilentEngine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = cluster.Connect(ctx, "nats://"+ln.Addr().String(), nil)
	if !errors.Is(err, cluster.ErrEngine) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Connect() = %v, want ErrEngine and ctx's error", err)
	}
	ln.Close()
	for c := range accepted {
		c.Close()
	}
}
