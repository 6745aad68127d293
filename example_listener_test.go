package mp_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/mpgo/mp"
)

// A Listener takes message connections from any process that knows its
// key: here a goroutine stands in for another program.
func ExampleListen() {
	ctx := context.Background()
	key := []byte("shared secret")
	l, err := mp.Listen("tcp", "127.0.0.1:0", key)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	go func() { // the other program: Python's Client(address, authkey=key)
		c, err := mp.Dial(ctx, "tcp", l.Addr().String(), key)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer c.Close()
		c.Send(ctx, []string{"hello", "listener"})
	}()

	c, err := l.Accept(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	var msg []string
	if err := c.Recv(ctx, &msg); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(msg)
	// Output: [hello listener]
}

// Dial with a key the Listener does not share fails on both sides.
func ExampleDial() {
	ctx := context.Background()
	// A name starting with @ is an abstract Unix socket: no file.
	l, err := mp.Listen("unix", fmt.Sprintf("@example-%d", os.Getpid()), []byte("right"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	accepted := make(chan error, 1)
	go func() {
		c, err := l.Accept(ctx)
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	_, err = mp.Dial(ctx, "unix", l.Addr().String(), []byte("wrong"))
	fmt.Println("dial:", errors.Is(err, mp.ErrAuthentication))
	fmt.Println("accept:", errors.Is(<-accepted, mp.ErrAuthentication))
	// Output:
	// dial: true
	// accept: true
}
