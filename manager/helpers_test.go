package manager_test

import (
	"context"
	"testing"
	"time"

	"github.com/mpgo/mp/manager"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

// testCtx returns a context that bounds a test generously.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// inProcess serves srv on a loopback TCP port (or the given address) in this
// process until the test ends; it returns the address.
func inProcess(t *testing.T, srv *manager.Server, address string) string {
	t.Helper()
	if address == "" {
		address = "127.0.0.1:0"
	}
	ln, err := manager.Listen(address)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	return ln.Addr().String()
}

// dial connects to address with key, closing the client when the test ends.
func dial(t *testing.T, address string, key []byte) *manager.Client {
	t.Helper()
	c, err := manager.Dial(testCtx(t), address, &manager.DialOptions{AuthKey: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// local starts an in-process server with a fixed key and returns a client.
func local(t *testing.T) *manager.Client {
	t.Helper()
	_, c := localServer(t)
	return c
}

// localServer is local that also returns the server.
func localServer(t *testing.T) (*manager.Server, *manager.Client) {
	t.Helper()
	key := []byte("test key")
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: key})
	return srv, dial(t, inProcess(t, srv, ""), key)
}

// waitParked waits until n calls are parked in srv on the object id (see
// manager.Parked).
func waitParked(t *testing.T, srv *manager.Server, id uint64, n int) {
	t.Helper()
	waitCount(t, n, func() int { return manager.Parked(srv, id) })
}

// waitParkedIn is waitParked for a server in another process that c is
// connected to, started with manager.ProbeSetup.
func waitParkedIn(t *testing.T, ctx context.Context, c *manager.Client, id uint64, n int) {
	t.Helper()
	probe, err := manager.Lookup[manager.Object](ctx, c, "probe")
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	waitCount(t, n, func() int {
		k, err := manager.Invoke[int](ctx, probe, "Parked", id)
		if err != nil {
			t.Fatal(err)
		}
		return k
	})
}

// waitCount polls count until it returns n, failing t after 10 s.
func waitCount(t *testing.T, n int, count func() int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		k := count()
		if k == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls parked after 10 s, want %d", k, n)
		}
	}
}
