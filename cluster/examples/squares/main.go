// Command squares is the README's program past one machine: a master that
// squares numbers on a cluster Pool, and, started with MP_CLUSTER_JOIN
// set, a worker of that pool — one binary for both, as cluster.Main
// makes it.
//
//	squares -n 1000                          # an engine in this process, two workers of this binary
//	squares -url tls://a.example.net:4222 -key-file key -ca ca.pem   # the master, on an engine elsewhere
//	MP_CLUSTER_JOIN=tls://a.example.net:4222 MP_CLUSTER_KEY_FILE=key MP_CLUSTER_CA=ca.pem MP_CLUSTER_POOL=squares squares   # a worker
//
// The master prints the sum of the squares of 1..n and how many tasks
// each worker ran.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// result is a square and the worker that computed it.
type result struct {
	Square int
	Worker string
}

var square = mp.Register("squares.square", func(_ context.Context, x int) (result, error) {
	host, _ := os.Hostname()
	return result{Square: x * x, Worker: fmt.Sprintf("%s:%d", host, os.Getppid())}, nil
})

func main() {
	cluster.Main()
	url := flag.String("url", "", "the engine's URL; empty: run one in this process, with two local workers")
	keyFile := flag.String("key-file", "", "a file holding the key (with -url)")
	ca := flag.String("ca", "", "a PEM file of the CA to trust, for a tls:// URL")
	cert := flag.String("cert", "", "a client certificate, for mutual TLS")
	certKey := flag.String("cert-key", "", "the client certificate's key")
	n := flag.Int("n", 100, "square the numbers 1..n")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *url, *keyFile, *ca, *cert, *certKey, *n); err != nil {
		fmt.Fprintln(os.Stderr, "squares:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, url, keyFile, ca, cert, certKey string, n int) error {
	c, cleanup, err := connect(ctx, url, keyFile, ca, cert, certKey)
	if err != nil {
		return err
	}
	defer cleanup()
	p, err := cluster.NewPool(ctx, c, &cluster.PoolOptions{Name: "squares"})
	if err != nil {
		return err
	}
	in := make([]int, n)
	for i := range in {
		in[i] = i + 1
	}
	start := time.Now()
	out, err := mp.Map(ctx, p, square, in, 0)
	if err != nil {
		return err
	}
	took := time.Since(start)
	sum, by := 0, map[string]int{}
	for _, r := range out {
		sum += r.Square
		by[r.Worker]++
	}
	fmt.Fprintf(w, "sum of the squares of 1..%d: %d (%v)\n", n, sum, took.Round(time.Millisecond))
	for _, worker := range slices.Sorted(maps.Keys(by)) {
		fmt.Fprintf(w, "  worker %s ran %d\n", worker, by[worker])
	}
	p.Close()
	return p.Wait(ctx)
}

// connect connects to the engine at url, or starts one in this process
// with two workers of this binary when url is empty. cleanup undoes it.
func connect(ctx context.Context, url, keyFile, ca, cert, certKey string) (c *cluster.Cluster, cleanup func(), err error) {
	if url != "" {
		o := &cluster.ConnectOptions{Name: "squares"}
		if keyFile != "" {
			if o.Key, err = cluster.ReadKey(keyFile); err != nil {
				return nil, nil, err
			}
		}
		if ca != "" {
			if o.TLS, err = cluster.ClientTLS(ca, cert, certKey); err != nil {
				return nil, nil, err
			}
		}
		c, err := cluster.Connect(ctx, url, o)
		if err != nil {
			return nil, nil, err
		}
		return c, func() { c.Close() }, nil
	}
	dir, err := os.MkdirTemp("", "squares-")
	if err != nil {
		return nil, nil, err
	}
	var workers []*exec.Cmd
	cleanup = func() {
		stopWorkers(workers)
		if c != nil {
			c.Close()
		}
		os.RemoveAll(dir)
	}
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte(rand.Text()+"\n"), 0o600); err != nil {
		return nil, nil, err
	}
	k, err := cluster.ReadKey(key)
	if err != nil {
		return nil, nil, err
	}
	if c, err = cluster.Start(ctx, &cluster.Options{Dir: filepath.Join(dir, "store"), Key: k}); err != nil {
		return nil, nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	for range 2 {
		w := exec.Command(exe)
		w.Env = append(os.Environ(), cluster.EnvJoin+"="+c.URL(), cluster.EnvKeyFile+"="+key, cluster.EnvPool+"=squares")
		w.Stdout, w.Stderr = os.Stdout, os.Stderr
		if err = w.Start(); err != nil {
			return nil, nil, err
		}
		workers = append(workers, w)
	}
	return c, cleanup, nil
}

func stopWorkers(workers []*exec.Cmd) {
	for _, w := range workers {
		_ = w.Process.Signal(syscall.SIGTERM)
	}
	for _, w := range workers {
		_ = w.Wait()
	}
}
