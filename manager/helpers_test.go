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
	key := []byte("test key")
	addr := inProcess(t, manager.NewServer(&manager.ServerOptions{AuthKey: key}), "")
	return dial(t, addr, key)
}
