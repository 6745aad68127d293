package manager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/diag"
)

// Options configures Start. The zero value is usable.
type Options struct {
	// Address is where the server listens: host:port for TCP (port 0 picks
	// a free port; Client.Addr reports it), or a Unix socket's path. If
	// empty, the server listens on a new Linux abstract Unix socket, which
	// leaves no file behind.
	Address string
	// AuthKey is the key clients must prove they know. If empty (nil or
	// of length zero), it is this process's key (mp.Current().AuthKey),
	// which children inherit, so that proxies passed to them just work;
	// such a server only listens on Unix sockets and loopback addresses
	// (Start returns ErrInsecure otherwise).
	AuthKey []byte
	// Shared names objects the server makes when it starts, for clients to
	// Lookup by name (Python: BaseManager.register with a callable that
	// returns a shared object).
	Shared map[string]Spec
	// Setup, if set, runs in the server's process before it listens, to
	// register custom objects and factories on the server (see NewSetup).
	Setup Setup
	// Limits bound what clients can make the server do.
	Limits
	// StartMethod says how the server's process is started; empty means
	// the program's default.
	StartMethod mp.StartMethod
	// Stderr receives the server process's standard error; nil means this
	// process's.
	Stderr io.Writer
	// Logger receives the server's records of connections it refused or
	// dropped (see ServerOptions.Logger), passed on from its process. If
	// nil, they go to mp's logger (mp.SetLogger).
	Logger *slog.Logger
}

// serveArg is what the server's process is given.
type serveArg struct {
	Address  string
	AuthKey  []byte
	Explicit bool
	Shared   map[string]Spec
	Setup    string
	Limits   Limits
	Report   *mp.Conn
}

// started is what the server's process reports once it listens.
type started struct {
	Addr string
	Err  string
}

var serveFunc = mp.Register("mp.manager.serve", serveChild)

// startDial is how Start connects to the server it started; tests replace
// it to fail after the server is up.
var startDial = dial

// Start starts a manager server in a new process and returns a client
// connected to it (Python: Manager(), BaseManager.start()). The server
// process dies with this one (mp's lifeline), and Shutdown or Close stops
// and reaps it. ctx bounds the start only.
func Start(ctx context.Context, opts *Options) (*Client, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	arg := serveArg{Address: o.Address, AuthKey: o.AuthKey, Explicit: len(o.AuthKey) > 0, Shared: o.Shared, Setup: o.Setup.name, Limits: o.Limits}
	if !arg.Explicit {
		arg.AuthKey = mp.Current().AuthKey
	}
	sp, addr, err := startServer(ctx, arg, o)
	if err != nil {
		return nil, err
	}
	c, err := startDial(ctx, addr, DialOptions{AuthKey: arg.AuthKey})
	if err != nil {
		// The server waits for a client's Shutdown, which will not come:
		// stop it before reaping it.
		sp.p.Kill()
		reap(context.Background(), sp)
		return nil, err
	}
	c.proc = sp
	remember(c, DialOptions{AuthKey: arg.AuthKey})
	return c, nil
}

// serverProc is a server's process that Start started, and the goroutine
// that passes the server's log records on.
type serverProc struct {
	p    *mp.Process
	logs chan struct{} // closed once the records stopped (the process ended)
}

// startServer starts the server's process and waits for its address; from
// then on the pipe it reported on carries its log records.
func startServer(ctx context.Context, arg serveArg, o Options) (*serverProc, string, error) {
	r, w, err := mp.Pipe(false)
	if err != nil {
		return nil, "", err
	}
	arg.Report = w
	p := mp.Command(serveFunc, arg)
	p.Name, p.StartMethod, p.Stderr = "SyncManager", o.StartMethod, o.Stderr
	err = p.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, "", fmt.Errorf("manager: start the server: %w", err)
	}
	sp := &serverProc{p: p, logs: make(chan struct{})}
	var rep started
	err = r.Recv(ctx, &rep)
	if err == nil && rep.Err != "" {
		err = errors.New(rep.Err)
	}
	if err != nil {
		r.Close()
		close(sp.logs)
		if werr := reap(ctx, sp); werr != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			err = werr
		}
		return nil, "", fmt.Errorf("manager: start the server: %w", err)
	}
	logger := o.Logger
	if logger == nil {
		logger = diag.Logger()
	}
	go relayLogs(r, logger.With("pid", p.Pid()), sp.logs)
	return sp, rep.Addr, nil
}

// serveChild runs in the server's process: it listens, reports its address
// and serves until told to stop or its parent dies.
func serveChild(ctx context.Context, a serveArg) (struct{}, error) {
	defer a.Report.Close()
	srv, ln, err := listenFor(a)
	if err != nil {
		a.Report.Send(ctx, started{Err: err.Error()})
		return struct{}{}, err
	}
	if err := a.Report.Send(ctx, started{Addr: addrString(ln.Addr())}); err != nil {
		ln.Close()
		return struct{}{}, err
	}
	return struct{}{}, srv.Serve(ctx, ln)
}

func listenFor(a serveArg) (*Server, net.Listener, error) {
	key := a.AuthKey
	logger := relayTo(a.Report)
	srv := NewServer(&ServerOptions{AuthKey: key, Limits: a.Limits, Logger: logger})
	srv.explicit = a.Explicit
	for name, spec := range a.Shared {
		obj, err := newObject(spec.Kind, spec.Size, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("shared object %q: %w", name, err)
		}
		srv.Register(name, &Shared{obj: obj})
	}
	if err := runSetup(a.Setup, srv); err != nil {
		return nil, nil, err
	}
	address := a.Address
	if address == "" {
		address = "@mp-manager-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(newOwner(), 36)
	}
	ln, err := Listen(address)
	if err != nil {
		return nil, nil, err
	}
	if err := checkListener(ln, a.Explicit); err != nil {
		ln.Close()
		return nil, nil, err
	}
	return srv, ln, nil
}

// reap waits for the server's process to exit, killing it if ctx ends
// first, releases it, and waits for the last of its log records.
func reap(ctx context.Context, sp *serverProc) error {
	p := sp.p
	err := p.Wait(ctx)
	if ctx.Err() != nil {
		p.Kill()
		<-p.Done()
		err = fmt.Errorf("manager: the server did not stop in time and was killed: %w", ctx.Err())
	}
	p.Close()
	<-sp.logs
	return err
}
