package mp_test

import (
	"context"
	"fmt"

	"github.com/mpgo/mp"
)

// sumBorrowed reads each message where it lies, in the pipe's shared
// memory, and answers with the sum of its bytes, until an empty message.
var sumBorrowed = mp.Register("example.sumBorrowed", func(ctx context.Context, c *mp.Conn) (struct{}, error) {
	defer c.Close()
	for {
		m, err := c.BorrowBytes(ctx)
		if err != nil {
			return struct{}{}, err
		}
		n, sum := len(m.Bytes()), 0
		for _, b := range m.Bytes() {
			sum += int(b)
		}
		m.Release() // the ring's memory goes back to the sender
		if n == 0 {
			return struct{}{}, nil
		}
		if err := c.Send(ctx, sum); err != nil {
			return struct{}{}, err
		}
	}
})

// A large message built in place: the sender fills memory the pipe lends
// it, and the receiver reads it where it lies. On Linux neither side copies
// the megabyte; elsewhere the same code works with a copy.
func ExampleConn_LendBytes() {
	ctx := context.Background()
	a, b, err := mp.PipeWith(mp.PipeOptions{Duplex: true, RingSize: 4 << 20}) // lends up to 1 MiB
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	p := mp.Command(sumBorrowed, b)
	if err := p.Start(); err != nil {
		fmt.Println(err)
		return
	}
	b.Close()
	for i := 1; i <= 3; i++ {
		loan, err := a.LendBytes(ctx, 1<<20)
		if err != nil {
			fmt.Println(err)
			return
		}
		for j := range loan.Bytes() {
			loan.Bytes()[j] = byte(i)
		}
		if err := loan.Send(ctx); err != nil {
			fmt.Println(err)
			return
		}
		var sum int
		if err := a.Recv(ctx, &sum); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(sum)
	}
	a.SendBytes(ctx, nil)
	fmt.Println(p.Wait(ctx))
	// Output:
	// 1048576
	// 2097152
	// 3145728
	// <nil>
}
