package manager_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
)

// addHit runs in a child process: the proxy it is given works there.
var addHit = mp.Register("manager_example.addHit", func(ctx context.Context, d *manager.Dict[string, int]) (int, error) {
	defer d.Close()
	return d.Add(ctx, "hits", 1)
})

// Start runs a server in a process of its own (Python: Manager()); a
// proxy to one of its objects works in any process it is given to.
func ExampleStart() {
	ctx := context.Background()
	m, err := manager.Start(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close() // stops the server's process
	d, err := manager.NewDict[string, int](ctx, m, map[string]int{"hits": 0})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	for range 3 {
		if _, err := mp.Call(ctx, addHit, d); err != nil {
			fmt.Println(err)
			return
		}
	}
	hits, _, err := d.Get(ctx, "hits")
	fmt.Println(hits, err)
	// Output: 3 <nil>
}

// Dial connects to a server another program runs (Python:
// BaseManager(address, authkey).connect()); here the server runs in this
// one, on a TCP port.
func ExampleDial() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	key := []byte("shared secret")
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: key})
	srv.Register("results", manager.NewShared(manager.Spec{Kind: manager.KindQueue}))
	ln, err := manager.Listen("127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()

	c, err := manager.Dial(ctx, ln.Addr().String(), &manager.DialOptions{AuthKey: key})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	q, err := manager.Lookup[manager.Queue[string]](ctx, c, "results")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer q.Close()
	q.Put(ctx, "done")
	fmt.Println(q.Get(ctx))

	_, err = manager.Dial(ctx, ln.Addr().String(), &manager.DialOptions{AuthKey: []byte("guess")})
	fmt.Println(errors.Is(err, manager.ErrAuthentication))
	// Output:
	// done <nil>
	// true
}

// Lookup finds an object a server exposes by name (Python: a typeid given
// to register). The server remembers the item type it is used with, and
// refuses a proxy of another.
func ExampleLookup() {
	ctx := context.Background()
	m, err := manager.Start(ctx, &manager.Options{
		Shared: map[string]manager.Spec{"tasks": {Kind: manager.KindQueue}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	tasks, err := manager.Lookup[manager.Queue[int]](ctx, m, "tasks")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tasks.Close()
	tasks.Put(ctx, 42)

	_, err = manager.Lookup[manager.Queue[string]](ctx, m, "tasks")
	fmt.Println(errors.Is(err, manager.ErrWrongType))
	var remote *mp.RemoteError // the server's answer, which names both types
	if errors.As(err, &remote) {
		fmt.Println(remote.Message)
	}
	fmt.Println(tasks.Get(ctx))
	// Output:
	// true
	// manager: wrong item type: "tasks" is a queue of [int], not of [string]
	// 42 <nil>
}
