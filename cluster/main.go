package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/diag"
)

// The environment that makes Main a worker: the engine's URL, and how to
// authenticate to it.
const (
	// EnvJoin is the engine's URL; when set, Main runs a worker.
	EnvJoin = "MP_CLUSTER_JOIN"
	// EnvKeyFile names a file holding the key (see ReadKey).
	EnvKeyFile = "MP_CLUSTER_KEY_FILE"
	// EnvCA names a PEM file of the certificate authorities to trust, for
	// a tls:// URL; EnvCert and EnvCertKey a client certificate and its
	// key, for mutual TLS.
	EnvCA      = "MP_CLUSTER_CA"
	EnvCert    = "MP_CLUSTER_CERT"
	EnvCertKey = "MP_CLUSTER_CERT_KEY"
	// EnvPool names the pool to work for; empty means "default".
	EnvPool = "MP_CLUSTER_POOL"
	// EnvProcesses is the number of local worker processes; empty means
	// one per CPU.
	EnvProcesses = "MP_CLUSTER_PROCESSES"
	// EnvJoinTimeout is how long a worker waits for its engine to be
	// reachable, as a Go duration ("90s", "10m"); empty means 2 minutes.
	// A worker machine may come up before its engine's, or while the
	// engine is started again: until then the worker tries again, less
	// and less often (every 2 seconds at most).
	EnvJoinTimeout = "MP_CLUSTER_JOIN_TIMEOUT"
)

// defaultJoinTimeout is how long a worker waits for its engine when
// EnvJoinTimeout is not set.
const defaultJoinTimeout = 2 * time.Minute

// The pauses between a worker's attempts to reach its engine: the first,
// doubled after each attempt up to the last.
const (
	joinPauseMin = 50 * time.Millisecond
	joinPauseMax = 2 * time.Second
)

// workerDrain is how long a worker that Main runs lets its tasks finish
// after SIGINT or SIGTERM.
const workerDrain = 10 * time.Second

// Main is mp.Main for programs that use this package: the first statement
// of main and of TestMain. In a program started with EnvJoin set, it runs
// a worker instead and never returns: it connects to the engine at that
// URL with the worker identity of the key in EnvKeyFile (else this
// process's mp key, which only mp's own children share), over TLS if
// EnvCA is set, and works for the pool EnvPool with EnvProcesses local
// processes (see Work) until SIGINT or SIGTERM. It then lets the tasks
// it holds finish for up to 10 seconds, hands back the others, and exits
// with status 0; or, if the worker could not start or failed, prints why
// on standard error and exits with status 1.
//
// An engine that cannot be reached yet is tried again, for up to
// EnvJoinTimeout, each failed attempt logged at Warn (to the logger given
// to mp.SetLogger, else slog's default, on standard error); a key the
// engine refuses, or a TLS failure, ends the worker at once. SIGINT or
// SIGTERM during that wait exits with status 0.
func Main() {
	mp.Main()
	url := os.Getenv(EnvJoin)
	if url == "" {
		return
	}
	if err := runWorker(url); err != nil {
		fmt.Fprintf(os.Stderr, "%s: cluster worker: %v\n", os.Args[0], err)
		os.Exit(1)
	}
	os.Exit(0)
}

// runWorker is Main's worker mode.
func runWorker(url string) error {
	o, co, join, err := workerConfig()
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
		}
	}()
	c, err := joinEngine(ctx, url, co, join)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while waiting for the engine
		}
		return err
	}
	defer c.Close()
	return Work(ctx, c, o)
}

// joinEngine connects to the engine at url, trying again while it cannot
// be reached, for up to join or until ctx ends. A key or TLS
// configuration the engine refuses is reported at once.
func joinEngine(ctx context.Context, url string, co *ConnectOptions, join time.Duration) (*Cluster, error) {
	jctx, jcancel := context.WithTimeout(ctx, join)
	defer jcancel()
	pause := joinPauseMin
	for attempt := 1; ; attempt++ {
		c, err := Connect(jctx, url, co)
		if err == nil {
			if attempt > 1 {
				workerLogger().Info("cluster: worker joined its engine", "url", url, "attempts", attempt)
			}
			return c, nil
		}
		if !errors.Is(err, ErrEngine) || errors.Is(err, ErrAuthentication) || errors.Is(err, ErrTLS) {
			return nil, err
		}
		if jctx.Err() != nil {
			return nil, gaveUp(ctx, join, err)
		}
		workerLogger().Warn("cluster: worker cannot reach its engine yet; trying again", "url", url,
			"attempt", attempt, "retry_in", pause, "err", err)
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-jctx.Done():
			t.Stop()
			return nil, gaveUp(ctx, join, err)
		}
		pause = min(2*pause, joinPauseMax)
	}
}

// gaveUp is the error of a worker that stopped waiting for its engine:
// err, the last attempt's, and how long it waited unless ctx ended.
func gaveUp(ctx context.Context, join time.Duration, err error) error {
	if ctx.Err() != nil {
		return err
	}
	return fmt.Errorf("%w (gave up after %v; see %s)", err, join, EnvJoinTimeout)
}

// workerLogger is where Main's worker logs: the logger given to
// mp.SetLogger, else slog's default, which writes to standard error — a
// worker machine's operator must see why it waits.
func workerLogger() *slog.Logger {
	if diag.IsSet() {
		return diag.Logger()
	}
	return slog.Default()
}

// workerConfig reads the worker's settings from the environment: the
// worker's, its connection's and how long it waits for its engine.
func workerConfig() (*WorkerOptions, *ConnectOptions, time.Duration, error) {
	co := &ConnectOptions{Worker: true, Name: "mp worker"}
	if path := os.Getenv(EnvKeyFile); path != "" {
		key, err := ReadKey(path)
		if err != nil {
			return nil, nil, 0, err
		}
		co.Key = key
	}
	if ca := os.Getenv(EnvCA); ca != "" {
		tc, err := ClientTLS(ca, os.Getenv(EnvCert), os.Getenv(EnvCertKey))
		if err != nil {
			return nil, nil, 0, err
		}
		co.TLS = tc
	} else if os.Getenv(EnvCert) != "" || os.Getenv(EnvCertKey) != "" {
		return nil, nil, 0, fmt.Errorf("cluster: %s and %s need %s", EnvCert, EnvCertKey, EnvCA)
	}
	o := &WorkerOptions{Pool: os.Getenv(EnvPool), Drain: workerDrain}
	if o.Pool != "" && !nameRE.MatchString(o.Pool) {
		return nil, nil, 0, fmt.Errorf("cluster: %s=%q: want 1 to 64 letters, digits, '-' or '_'", EnvPool, o.Pool)
	}
	if s := os.Getenv(EnvProcesses); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, nil, 0, fmt.Errorf("cluster: %s=%q: want a number of processes, 1 or more", EnvProcesses, s)
		}
		o.Local.Processes = n
	}
	join := defaultJoinTimeout
	if s := os.Getenv(EnvJoinTimeout); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return nil, nil, 0, fmt.Errorf("cluster: %s=%q: want a duration such as 90s or 10m, more than 0", EnvJoinTimeout, s)
		}
		join = d
	}
	return o, co, join, nil
}
