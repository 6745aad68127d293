package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/diag"
	"github.com/mpgo/mp/internal/logrelay"
	"github.com/nats-io/nats.go"
)

// An engine that Start runs with Options.Process lives in a child process
// of this program, started with mp: it dies with this process (mp's
// lifeline), and a supervising goroutine here starts it again, on the same
// store and port, whenever it dies otherwise. Clients reconnect by
// themselves. The child reports its URL, then its log records, on a pipe.

// engineFunc is the engine's child process.
var engineFunc = mp.Register("mp.cluster.engine", runEngine)

// engineArg is what the engine's process is started with.
type engineArg struct {
	Config engineConfig
	TLS    *tlsMaterial // nil: no TLS
	// Report carries the engine's URL once it is ready, then its records.
	Report *mp.Conn
}

// engineMsg is a message of the engine's process: its URL once, then log
// records.
type engineMsg struct {
	_   struct{} `cbor:",toarray"`
	URL string
	Log logrelay.Record
}

// runEngine runs in the engine's process: it starts the engine, reports
// its URL and runs it until SIGTERM or the parent's death.
func runEngine(ctx context.Context, a engineArg) (struct{}, error) {
	defer a.Report.Close()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	tc, err := a.TLS.serverConfig()
	if err != nil {
		return struct{}{}, err
	}
	logger := relayTo(a.Report)
	e, err := startEmbedded(ctx, a.Config, tc, logger)
	if err != nil {
		return struct{}{}, err
	}
	if err := a.Report.Send(ctx, engineMsg{URL: e.URL()}); err != nil {
		return struct{}{}, errors.Join(err, e.stop())
	}
	<-ctx.Done()
	return struct{}{}, e.stop()
}

// child is an engine in a child process, and the goroutine that starts it
// again when it dies.
type child struct {
	arg    engineArg // Report unset; Config.Port fixed after the first start
	logger *slog.Logger
	url    string
	tc     *tls.Config // how this process trusts the engine, nil without TLS

	cancel context.CancelFunc // stops the supervisor
	done   chan struct{}      // closed when the supervisor has returned

	// mu guards cur, which the supervisor replaces after a restart.
	mu  sync.Mutex
	cur *childProc
}

// childProc is one run of the engine's process.
type childProc struct {
	p    *mp.Process
	logs chan struct{} // closed once its records stopped coming
}

// startChild starts an engine in a child process and waits until it takes
// connections.
func startChild(ctx context.Context, cfg engineConfig, o Options) (*child, error) {
	m, err := tlsMaterialOf(o.TLS)
	if err != nil {
		return nil, err
	}
	c := &child{arg: engineArg{Config: cfg, TLS: m}, logger: o.Logger, done: make(chan struct{})}
	if c.logger == nil {
		c.logger = diag.Logger() // mp's logger
	}
	cp, u, err := c.spawn(ctx)
	if err != nil {
		return nil, err
	}
	if c.arg.Config.Port, err = portOf(u); err != nil {
		return nil, errors.Join(err, cp.stop(c.logger))
	}
	c.url, c.cur, c.tc = u, cp, m.clientConfig()
	sctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.supervise(sctx)
	return c, nil
}

// spawn starts the engine's process and waits for its URL.
func (c *child) spawn(ctx context.Context) (*childProc, string, error) {
	r, w, err := mp.Pipe(false)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrEngine, err)
	}
	arg := c.arg
	arg.Report = w
	p := mp.Command(engineFunc, arg)
	p.Name = "cluster-engine"
	// A process of its own, whatever the program's default: the Goroutine
	// method would run the engine in this process, and a warm process
	// saves nothing on a start that happens once.
	p.StartMethod = mp.Spawn
	err = p.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, "", fmt.Errorf("%w: start the engine's process: %w", ErrEngine, err)
	}
	cp := &childProc{p: p, logs: make(chan struct{})}
	logger := c.logger.With("pid", p.Pid())
	for {
		var m engineMsg
		if err := r.Recv(ctx, &m); err != nil {
			r.Close()
			close(cp.logs)
			return nil, "", spawnError(ctx, cp, err)
		}
		if m.URL != "" {
			go relayLogs(r, logger, cp.logs)
			return cp, m.URL, nil
		}
		m.Log.Log(logger)
	}
}

// spawnError is the error of a start that did not report a URL: ctx's, or
// the one the process ended with (a *mp.RemoteError that matches this
// package's sentinels, such as ErrStoreInUse).
func spawnError(ctx context.Context, cp *childProc, recvErr error) error {
	if ctx.Err() != nil {
		cp.p.Kill()
	}
	<-cp.p.Done()
	err := cp.p.Wait(context.Background())
	cp.p.Close()
	if err == nil {
		err = recvErr
	}
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	if errors.Is(err, ErrEngine) {
		return fmt.Errorf("cluster: the engine's process: %w", err)
	}
	return fmt.Errorf("%w: the engine's process: %w", ErrEngine, err)
}

// supervise starts the engine again whenever its process dies, until ctx
// ends.
func (c *child) supervise(ctx context.Context) {
	defer close(c.done)
	for {
		c.mu.Lock()
		cp := c.cur
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-cp.p.Done():
		}
		code, _ := cp.p.ExitCode()
		pid := cp.p.Pid()
		cp.p.Close()
		<-cp.logs
		c.mu.Lock()
		c.cur = nil
		c.mu.Unlock()
		c.logger.Warn("cluster: the engine's process died; starting it again", "pid", pid, "exit", code, "url", c.url)
		next, ok := c.restart(ctx)
		if !ok {
			return
		}
		c.mu.Lock()
		c.cur = next
		c.mu.Unlock()
	}
}

// restart starts the engine again, trying with a growing pause (up to 5 s)
// until it works or ctx ends.
func (c *child) restart(ctx context.Context) (*childProc, bool) {
	pause := 50 * time.Millisecond
	for {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		cp, _, err := c.spawn(sctx)
		cancel()
		if err == nil {
			c.logger.Warn("cluster: the engine's process runs again", "pid", cp.p.Pid(), "url", c.url)
			return cp, true
		}
		if ctx.Err() != nil {
			return nil, false
		}
		c.logger.Error("cluster: the engine's process did not start again", "err", err, "retry", pause)
		select {
		case <-ctx.Done():
			return nil, false
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

func (c *child) URL() string { return c.url }

func (c *child) connect(ctx context.Context, id identity) (*nats.Conn, <-chan struct{}, error) {
	return dial(ctx, c.url, id, c.tc, "mp")
}

// pid is the engine's process id now.
func (c *child) pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return 0
	}
	return c.cur.p.Pid()
}

// stop stops the supervisor, then the engine's process for good.
func (c *child) stop() error {
	c.cancel()
	<-c.done
	if c.cur == nil { // the supervisor gave up restarting: nothing runs
		return nil
	}
	return c.cur.stop(c.logger)
}

// stop asks the process to stop (SIGTERM: the engine shuts down and
// flushes its store), kills it if it has not within 10 s, and reaps it.
// It returns the engine's error in shutting down, if any. A process that
// ended by a signal other than this SIGTERM died on its own, as it may at
// any time, before it could be started again: that is logged, not
// returned.
func (cp *childProc) stop(logger *slog.Logger) error {
	p := cp.p
	p.Terminate()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.Wait(ctx)
	if ctx.Err() != nil {
		p.Kill()
		<-p.Done()
		err = fmt.Errorf("%w: the engine's process did not stop in 10 s and was killed", ErrEngine)
	}
	var exit *mp.ExitError
	if errors.As(err, &exit) {
		if code, _ := p.ExitCode(); code != -int(syscall.SIGTERM) {
			logger.Warn("cluster: the engine's process had died", "pid", p.Pid(), "exit", code)
		}
		err = nil
	}
	p.Close()
	<-cp.logs
	return err
}

// portOf is the port of the URL an engine reported.
func portOf(u string) (int, error) {
	pu, err := url.Parse(u)
	if err == nil {
		var p string
		if _, p, err = net.SplitHostPort(pu.Host); err == nil {
			var port int
			if port, err = strconv.Atoi(p); err == nil {
				return port, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: the engine reported the URL %q: %w", ErrEngine, u, err)
}
