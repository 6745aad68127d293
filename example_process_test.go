package mp_test

import (
	"context"
	"fmt"
	"os"

	"github.com/mpgo/mp"
)

var (
	// greet prints in the child process it runs in.
	greet = mp.Register("example.greet", func(_ context.Context, name string) (struct{}, error) {
		fmt.Println("hello", name)
		return struct{}{}, nil
	})
	// sendList sends one value on the Conn it is given, then closes it.
	sendList = mp.Register("example.sendList", func(ctx context.Context, c *mp.Conn) (struct{}, error) {
		defer c.Close()
		return struct{}{}, c.Send(ctx, []any{42, nil, "hello"})
	})
)

// A Process runs a registered function in a child process: Python's
// Process(target=f, args=("bob",)).
func ExampleCommand() {
	p := mp.Command(greet, "bob")
	p.Stdout = os.Stdout // without it, the child writes to this process's standard output too
	if err := p.Start(); err != nil {
		fmt.Println(err)
		return
	}
	err := p.Wait(context.Background()) // Python: p.join()
	code, _ := p.ExitCode()
	fmt.Println("exit code", code, err)
	// Output:
	// hello bob
	// exit code 0 <nil>
}

// Call starts a process, waits for it and returns its function's result,
// which Python's Process discards.
func ExampleCall() {
	y, err := mp.Call(context.Background(), cube, 3)
	fmt.Println(y, err)
	// Output: 27 <nil>
}

// A Conn travels to the child inside its argument, and the parent receives
// what the child sends: Python's parent_conn, child_conn = Pipe().
func ExamplePipe() {
	ctx := context.Background()
	parentConn, childConn, err := mp.Pipe(true)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer parentConn.Close()
	p := mp.Command(sendList, childConn)
	if err := p.Start(); err != nil {
		fmt.Println(err)
		return
	}
	childConn.Close() // the child has its own copy
	var v []any
	err = parentConn.Recv(ctx, &v)
	fmt.Println(v, err)
	fmt.Println(p.Wait(ctx))
	// Output:
	// [42 <nil> hello] <nil>
	// <nil>
}
