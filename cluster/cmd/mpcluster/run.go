package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/mpgo/mp/cluster"
	_ "github.com/mpgo/mp/cluster/examples"
	"github.com/mpgo/mp/examples/tour"
)

// The exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
	exitAuth  = 3
)

// errUsage reports a command line that is wrong; its message has been
// printed already.
var errUsage = errors.New("usage")

const usage = `usage:
  mpcluster serve -listen host:port -dir D -key-file F [-tls-cert C -tls-key K [-tls-ca CA]] [-sync-always]
  mpcluster status -url U -key-file F [-tls-ca CA [-tls-cert C -tls-key K]] [-all]
  mpcluster tour [-list | -python] [name ...]
`

// run runs the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "status":
		err = status(ctx, args[1:], stdout, stderr)
	case "tour":
		tctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		return tour.Run(tctx, "mpcluster tour", args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "mpcluster: unknown command %q\n%s", args[0], usage)
		return exitUsage
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, cluster.ErrAuthentication):
		fmt.Fprintln(stderr, "mpcluster:", err)
		return exitAuth
	default:
		fmt.Fprintln(stderr, "mpcluster:", err)
		return exitFail
	}
}

// flags is a command's flag set, which prints its errors to stderr.
func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("mpcluster "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args into fs, and checks that the flags named in required
// are given.
func parse(fs *flag.FlagSet, args []string, required ...string) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	for _, name := range required {
		if fs.Lookup(name).Value.String() == "" {
			fmt.Fprintf(fs.Output(), "%s: -%s is required\n", fs.Name(), name)
			return errUsage
		}
	}
	return nil
}

// serve runs an engine until ctx ends or SIGINT or SIGTERM comes.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("serve", stderr)
	listen := fs.String("listen", "127.0.0.1:4222", "`host:port` to listen at")
	dir := fs.String("dir", "", "store `directory` (default: under the user's cache directory)")
	keyFile := fs.String("key-file", "", "`file` holding the key")
	cert := fs.String("tls-cert", "", "the engine's certificate, PEM `file`")
	key := fs.String("tls-key", "", "the certificate's private key, PEM `file`")
	ca := fs.String("tls-ca", "", "require client certificates of this CA, PEM `file` (mutual TLS)")
	syncAlways := fs.Bool("sync-always", false, "write every message to disk before acknowledging it")
	if err := parse(fs, args, "key-file"); err != nil {
		return err
	}
	if (*cert == "") != (*key == "") || (*ca != "" && *cert == "") {
		fmt.Fprintln(stderr, "mpcluster serve: -tls-cert and -tls-key go together, and -tls-ca needs them")
		return errUsage
	}
	o := &cluster.Options{Listen: *listen, Dir: *dir, SyncAlways: *syncAlways,
		Logger: slog.New(slog.NewTextHandler(stderr, nil))}
	var err error
	if o.Key, err = cluster.ReadKey(*keyFile); err != nil {
		return err
	}
	if *cert != "" {
		if o.TLS, err = cluster.ServerTLS(*cert, *key, *ca); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	c, err := cluster.Start(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, c.URL())
	<-ctx.Done()
	return c.Close()
}
