package cluster

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/mpgo/mp"
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
// it holds finish for up to 10 seconds, hands back the others, and exits with status 0; or, if the worker could not start or failed,
// prints why on standard error and exits with status 1.
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
	o, co, err := workerConfig()
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
	c, err := Connect(cctx, url, co)
	ccancel()
	if err != nil {
		return err
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() { done <- Work(ctx, c, o) }()
	select {
	case err := <-done:
		return err
	case <-sigs:
	}
	cancel()
	return <-done
}

// workerConfig reads the worker's settings from the environment.
func workerConfig() (*WorkerOptions, *ConnectOptions, error) {
	co := &ConnectOptions{Worker: true, Name: "mp worker"}
	if path := os.Getenv(EnvKeyFile); path != "" {
		key, err := ReadKey(path)
		if err != nil {
			return nil, nil, err
		}
		co.Key = key
	}
	if ca := os.Getenv(EnvCA); ca != "" {
		tc, err := ClientTLS(ca, os.Getenv(EnvCert), os.Getenv(EnvCertKey))
		if err != nil {
			return nil, nil, err
		}
		co.TLS = tc
	} else if os.Getenv(EnvCert) != "" || os.Getenv(EnvCertKey) != "" {
		return nil, nil, fmt.Errorf("cluster: %s and %s need %s", EnvCert, EnvCertKey, EnvCA)
	}
	o := &WorkerOptions{Pool: os.Getenv(EnvPool), Drain: workerDrain}
	if o.Pool != "" && !nameRE.MatchString(o.Pool) {
		return nil, nil, fmt.Errorf("cluster: %s=%q: want 1 to 64 letters, digits, '-' or '_'", EnvPool, o.Pool)
	}
	if s := os.Getenv(EnvProcesses); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, nil, fmt.Errorf("cluster: %s=%q: want a number of processes, 1 or more", EnvProcesses, s)
		}
		o.Local.Processes = n
	}
	return o, co, nil
}
