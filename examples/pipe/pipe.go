package pipe

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 13, Topic: "pipe", Name: "pipe-process-to-process", Title: "a pipe between two children", Run: processToProcess})
	examples.Add(examples.Example{Seed: 14, Topic: "pipe", Name: "pipe-child-to-parent", Title: "a child sends to its parent", Run: childToParent})
	examples.Add(examples.Example{Seed: 15, Topic: "pipe", Name: "pipe-parent-to-child", Title: "a parent sends to its child", Run: parentToChild})
	examples.Add(examples.Example{Seed: 18, Topic: "pipe", Name: "pipe-same-process", Title: "a pipe inside one process", Run: sameProcess})
}

var process1 = mp.Register("examples.pipe.process1", func(ctx context.Context, c *mp.Conn) (struct{}, error) {
	defer c.Close()
	return struct{}{}, c.Send(ctx, "Hello,This is process1")
})

var process2 = mp.Register("examples.pipe.process2", func(ctx context.Context, c *mp.Conn) (struct{}, error) {
	defer c.Close()
	var s string
	if err := c.Recv(ctx, &s); err != nil {
		return struct{}{}, err
	}
	fmt.Println("process2 recieve:", s)
	return struct{}{}, nil
})

// processToProcess is seed 13: each child gets one end of the pipe.
func processToProcess(ctx context.Context, w io.Writer) error {
	a, b, err := mp.Pipe(true)
	if err != nil {
		return err
	}
	p1, p2 := mp.Command(process1, a), mp.Command(process2, b)
	p1.Stdout, p2.Stdout = w, w
	err = examples.StartAll(p1, p2)
	a.Close() // the children hold their own copies now
	b.Close()
	if err != nil {
		return err
	}
	if err := examples.WaitAll(ctx, p1, p2); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nend all processes.")
	return nil
}

var sendHello = mp.Register("examples.pipe.sendHello", func(ctx context.Context, c *mp.Conn) (struct{}, error) {
	defer c.Close() // the child closes its end of the pipe
	return struct{}{}, c.Send(ctx, "HelloWorld!")
})

// childToParent is seed 14.
func childToParent(ctx context.Context, w io.Writer) error {
	parentConn, childConn, err := mp.Pipe(true)
	if err != nil {
		return err
	}
	defer parentConn.Close()
	p := mp.Command(sendHello, childConn)
	err = p.Start()
	childConn.Close()
	if err != nil {
		return err
	}
	var msg string
	if err := parentConn.Recv(ctx, &msg); err != nil {
		return err
	}
	fmt.Fprintln(w, "main process received>>>", msg)
	if err := p.Wait(ctx); err != nil {
		return err
	}
	fmt.Fprintln(w, "main process finished!")
	return nil
}

var printMsg = mp.Register("examples.pipe.printMsg", func(ctx context.Context, c *mp.Conn) (struct{}, error) {
	defer c.Close()
	var msg string
	if err := c.Recv(ctx, &msg); err != nil {
		return struct{}{}, err
	}
	fmt.Println("The massage from parent_process is>>>", msg)
	return struct{}{}, nil
})

// parentToChild is seed 15 (which relied on Python joining the child at
// exit; here the parent waits for it explicitly).
func parentToChild(ctx context.Context, w io.Writer) error {
	parentConn, childConn, err := mp.Pipe(true)
	if err != nil {
		return err
	}
	defer parentConn.Close()
	p := mp.Command(printMsg, childConn)
	p.Stdout = w
	err = p.Start()
	childConn.Close()
	if err != nil {
		return err
	}
	if err := parentConn.Send(ctx, "Hello,child_process!"); err != nil {
		return err
	}
	return p.Wait(ctx)
}

// sameProcess is seed 18.
func sameProcess(ctx context.Context, w io.Writer) error {
	left, right, err := mp.Pipe(true)
	if err != nil {
		return err
	}
	defer left.Close()
	defer right.Close()
	left.Send(ctx, "1234")
	var s string
	if err := right.Recv(ctx, &s); err != nil {
		return err
	}
	fmt.Fprintln(w, s)
	return nil
}

// sleepUpTo sleeps a random time below d, or until ctx ends.
func sleepUpTo(ctx context.Context, d time.Duration) {
	t := time.NewTimer(time.Duration(rand.Int64N(int64(d))))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
