package manager_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
	"github.com/mpgo/mp/mptest"
)

// start starts a manager in a child process, shutting it down when the test
// ends.
func start(t *testing.T, opts *manager.Options) *manager.Client {
	t.Helper()
	c, err := manager.Start(testCtx(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	return c
}

var setName = mp.Register("manager_test.setName", func(ctx context.Context, d *manager.Dict[string, string]) (struct{}, error) {
	defer d.Close()
	return struct{}{}, d.Set(ctx, "name", "changed by "+mp.Current().Name)
})

// TestStartChildChangesDict is CPython's basic promise: a proxy passed to a
// child works there, and the parent sees the change after join.
func TestStartChildChangesDict(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := start(t, nil)
	d, err := manager.NewDict[string, string](ctx, c, map[string]string{"name": "before"})
	if err != nil {
		t.Fatal(err)
	}
	p := mp.Command(setName, d)
	p.Name = "child"
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if v, _, err := d.Get(ctx, "name"); v != "changed by child" || err != nil {
		t.Errorf("Get = %q, %v; want the child's change", v, err)
	}
	if !strings.HasPrefix(c.Addr(), "@") {
		t.Errorf("Addr = %q, want an abstract Unix socket", c.Addr())
	}
}

// TestShutdownReaps checks that Shutdown stops and reaps the server, that
// calls afterwards fail with ErrConnection, and that a new manager can be
// started on the same TCP address (CPython's _TestManagerRestart).
func TestShutdownReaps(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	opts := &manager.Options{Address: "127.0.0.1:0", AuthKey: []byte("restart")}
	c, err := manager.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	q, err := manager.NewQueue[int](ctx, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	must(t, q.Put(ctx, 1))
	pid, err := c.Ping(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("server process %d still exists after Shutdown (kill 0: %v)", pid, err)
	}
	if err := q.Put(ctx, 1); !errors.Is(err, manager.ErrConnection) {
		t.Errorf("Put after Shutdown = %v, want ErrConnection", err)
	}
	opts.Address = c.Addr()
	c2 := start(t, opts)
	if c2.Addr() != c.Addr() {
		t.Errorf("restarted on %s, want %s", c2.Addr(), c.Addr())
	}
	q2, err := manager.NewQueue[int](ctx, c2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q2.TryGet(ctx); !errors.Is(err, mp.ErrEmpty) {
		t.Errorf("a restarted manager's new queue: %v, want empty", err)
	}
}

// TestKillServerUnderBlockedClients kills the server's process while calls
// are blocked in it: each returns ErrConnection promptly, and so does every
// later call.
func TestKillServerUnderBlockedClients(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c, err := manager.Start(ctx, &manager.Options{Setup: manager.ProbeSetup})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		var ee *mp.ExitError
		if err := c.Close(); !errors.As(err, &ee) {
			t.Errorf("Close of a killed server = %v, want its *mp.ExitError", err)
		}
	}()
	q, _ := manager.NewQueue[int](ctx, c, 0)
	m, _ := manager.NewMutex(ctx, c)
	e, _ := manager.NewEvent(ctx, c)
	must(t, m.Lock(ctx))
	errs := make(chan error, 3)
	go func() { _, err := q.Get(ctx); errs <- err }()
	go func() { errs <- m.Lock(ctx) }()
	go func() { errs <- e.Wait(ctx) }()
	for _, id := range []uint64{q.ID(), m.ID(), e.ID()} {
		waitParkedIn(t, ctx, c, id, 1)
	}
	pid, _ := c.Ping(ctx)
	syscall.Kill(pid, syscall.SIGKILL)
	timeout := time.After(5 * time.Second)
	for range 3 {
		select {
		case err := <-errs:
			if !errors.Is(err, manager.ErrConnection) {
				t.Errorf("blocked call returned %v, want ErrConnection", err)
			}
		case <-timeout:
			t.Fatal("blocked calls did not return after the server died")
		}
	}
	if err := q.Put(ctx, 1); !errors.Is(err, manager.ErrConnection) {
		t.Errorf("later call = %v, want ErrConnection", err)
	}
}

var lockAndDie = mp.Register("manager_test.lockAndDie", func(ctx context.Context, m *manager.Mutex) (struct{}, error) {
	if err := m.Lock(ctx); err != nil {
		return struct{}{}, err
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGKILL)
	return struct{}{}, nil
})

// TestClientDiesHoldingLock kills a process that holds a manager Mutex: the
// server releases it and the next holder learns that the owner died.
func TestClientDiesHoldingLock(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := start(t, nil)
	m, err := manager.NewMutex(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	p := mp.Command(lockAndDie, m)
	err = p.Run(ctx)
	p.Close()
	var ee *mp.ExitError
	if !errors.As(err, &ee) || ee.Signal != syscall.SIGKILL {
		t.Fatalf("child = %v, want killed", err)
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err = m.Lock(lctx)
	if !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("Lock after the owner died = %v, want mp.ErrOwnerDead", err)
	}
	if locked, _ := m.Locked(ctx); !locked {
		t.Error("the lock is not held after Lock returned ErrOwnerDead")
	}
	must(t, m.Unlock(ctx))
	must(t, m.Lock(ctx)) // the next time, no error
	must(t, m.Unlock(ctx))
}

var getOne = mp.Register("manager_test.getOne", func(ctx context.Context, q *manager.Queue[int]) (int, error) {
	return q.Get(ctx)
})

// TestClientKilledMidCall kills a process blocked in a Get: the server stays
// consistent, and an item put afterwards goes to the next getter.
func TestClientKilledMidCall(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := start(t, &manager.Options{Setup: manager.ProbeSetup})
	q, _ := manager.NewQueue[int](ctx, c, 0)
	p := mp.Command(getOne, q)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	waitParkedIn(t, ctx, c, q.ID(), 1) // the child's Get
	p.Kill()
	p.Wait(ctx)
	p.Close()
	must(t, q.Put(ctx, 7))
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if v, err := q.Get(gctx); v != 7 || err != nil {
		t.Errorf("Get = %v, %v; want the item the dead getter did not take", v, err)
	}
}

func TestStartRefusesPublicAddressWithoutKey(t *testing.T) {
	mptest.CheckLeaks(t)
	for _, key := range [][]byte{nil, {}} {
		_, err := manager.Start(testCtx(t), &manager.Options{Address: "0.0.0.0:0", AuthKey: key})
		if !errors.Is(err, manager.ErrInsecure) || !strings.Contains(err.Error(), "non-loopback") {
			t.Fatalf("Start on 0.0.0.0 with key %#v = %v, want a refusal that says why", key, err)
		}
	}
}

var setOverConn = mp.Register("manager_test.setOverConn", func(ctx context.Context, c *mp.Conn) (struct{}, error) {
	defer c.Close()
	var d *manager.Dict[string, int]
	if err := c.Recv(ctx, &d); err != nil {
		return struct{}{}, err
	}
	defer d.Close()
	_, err := d.Add(ctx, "n", 1)
	return struct{}{}, err
})

// TestProxyInConnMessage sends a proxy inside a message on an mp.Conn to a
// child that is already running: it arrives working.
func TestProxyInConnMessage(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := start(t, nil)
	d, _ := manager.NewDict[string, int](ctx, c, nil)
	defer d.Close()
	a, b, err := mp.Pipe(true)
	if err != nil {
		t.Fatal(err)
	}
	p := mp.Command(setOverConn, b)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	b.Close()
	must(t, a.Send(ctx, d))
	a.Close()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := d.Get(ctx, "n"); n != 1 {
		t.Errorf("n = %d, want the child's 1", n)
	}
}

// TestProxyGoroutineStart: with the Goroutine start method the proxy is
// decoded in this process and reuses this process's connection.
func TestProxyGoroutineStart(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := start(t, nil)
	d, _ := manager.NewDict[string, string](ctx, c, nil)
	defer d.Close()
	p := mp.Command(setName, d)
	p.StartMethod = mp.Goroutine
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if v, _, _ := d.Get(ctx, "name"); !strings.HasPrefix(v, "changed by") {
		t.Errorf("name = %q", v)
	}
}

// counterSetup gives a started server a shared counter and a factory of
// them, in the server's own process.
var counterSetup = manager.NewSetup("manager_test.counters", func(s *manager.Server) error {
	s.Register("counter", &counter{}, "Add")
	s.RegisterFactory("new_counter", func() any { return &counter{} }, "Add")
	return nil
})

// errorsSetup gives a started server a counter whose methods fail with
// registered errors.
var errorsSetup = manager.NewSetup("manager_test.errors", func(s *manager.Server) error {
	s.Register("counter", &counter{}, "Spend", "Drain", "End", "Fail")
	return nil
})

// TestCustomErrorsAcrossProcesses: a custom object's method in a server
// process reached over TCP returns a registered error and io.EOF, each
// wrapped with %w: the caller's errors.Is still matches them, and an
// unregistered error stays a *mp.RemoteError that matches neither.
func TestCustomErrorsAcrossProcesses(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := start(t, &manager.Options{Address: "127.0.0.1:0", AuthKey: []byte("errors"), Setup: errorsSetup})
	if pid, _ := c.Ping(ctx); pid == os.Getpid() {
		t.Fatal("the server runs in this process")
	}
	o, err := manager.Lookup[manager.Object](ctx, c, "counter")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	var remote *mp.RemoteError
	for _, tc := range []struct {
		method string
		arg    []any
		want   error
	}{
		{"Spend", []any{3}, errNoCredit},
		{"Drain", nil, io.EOF},
		{"End", nil, io.EOF},
	} {
		err := o.Call(ctx, tc.method, nil, tc.arg...)
		if !errors.Is(err, tc.want) || !errors.As(err, &remote) {
			t.Errorf("%s = %v, want a *mp.RemoteError matching %v", tc.method, err, tc.want)
		}
	}
	err = o.Call(ctx, "Fail", nil, "boom")
	if !errors.As(err, &remote) || errors.Is(err, io.EOF) || errors.Is(err, errNoCredit) || !strings.Contains(err.Error(), "fails: boom") {
		t.Errorf("Fail = %v, want a *mp.RemoteError with the message and no sentinel", err)
	}
}

var failingSetup = manager.NewSetup("manager_test.failing", func(*manager.Server) error {
	return errors.New("no config file")
})

// TestStartWithSetup is BaseManager.register followed by start(): custom
// objects live in the server's process, and proxies to them work there.
func TestStartWithSetup(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := start(t, &manager.Options{Setup: counterSetup})
	if pid, err := c.Ping(ctx); err != nil || pid == os.Getpid() {
		t.Fatalf("Ping = %d, %v; want the server's own process", pid, err)
	}
	checkCounter(t, ctx, c, "counter").Close()
	checkCounter(t, ctx, c, "new_counter").Close()
	_, err := manager.Start(ctx, &manager.Options{Setup: failingSetup})
	if err == nil || !strings.Contains(err.Error(), "no config file") {
		t.Errorf("Start with a failing setup = %v", err)
	}
}

func TestNewSetupMisuse(t *testing.T) {
	for name, fn := range map[string]func(){
		"twice":   func() { manager.NewSetup("manager_test.counters", func(*manager.Server) error { return nil }) },
		"no name": func() { manager.NewSetup("", func(*manager.Server) error { return nil }) },
		"nil fn":  func() { manager.NewSetup("manager_test.nil", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewSetup %s did not panic", name)
				}
			}()
			fn()
		}()
	}
}
