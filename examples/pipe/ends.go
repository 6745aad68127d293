package pipe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 16, Topic: "pipe", Name: "pipe-both-ends-in-child", Title: "the child holds both ends of a duplex pipe", Run: bothEndsInChild})
	examples.Add(examples.Example{Seed: 17, Topic: "pipe", Name: "pipe-send-both-ends", Title: "what one end sends, the other receives", Run: sendBothEnds})
	examples.Add(examples.Example{Seed: 19, Topic: "pipe", Name: "pipe-none-sentinel", Title: "a receive loop ended by a nil end marker", Run: noneSentinel})
	examples.Add(examples.Example{Seed: 20, Topic: "pipe", Name: "pipe-eof-close", Title: "io.EOF once every copy of the sending end is closed", Run: eofClose})
	examples.Add(examples.Example{Seed: 21, Topic: "pipe", Name: "pipe-producer-consumer", Title: "producer and consumer over a pipe, ended by io.EOF", Run: producerConsumer})
}

// ends is a pair of pipe ends given to one child.
type ends struct {
	Parent, Child *mp.Conn
}

var bothEnds = mp.Register("examples.pipe.bothEnds", func(ctx context.Context, e ends) (struct{}, error) {
	defer e.Parent.Close()
	defer e.Child.Close()
	var msg string
	if err := e.Parent.Recv(ctx, &msg); err != nil {
		return struct{}{}, err
	}
	fmt.Println("child received on parent_conn>>>", msg)
	if err := e.Child.Send(ctx, "the child sent a message to the main process through child_conn"); err != nil {
		return struct{}{}, err
	}
	fmt.Println("child process finished")
	return struct{}{}, nil
})

// bothEndsInChild is seed 16: a message sent before the child starts waits
// in the pipe.
func bothEndsInChild(ctx context.Context, w io.Writer) error {
	parentConn, childConn, err := mp.Pipe(true)
	if err != nil {
		return err
	}
	defer parentConn.Close()
	defer childConn.Close()
	childConn.Send(ctx, "the main process sent a message to the child through child_conn")
	p := mp.Command(bothEnds, ends{parentConn, childConn})
	p.Stdout = w
	if err := p.Run(ctx); err != nil {
		return err
	}
	var msg string
	if err := parentConn.Recv(ctx, &msg); err != nil {
		return err
	}
	fmt.Fprintln(w, "main process received on parent_conn>>>", msg)
	fmt.Fprintln(w, "main process finished!")
	return nil
}

var writeBoth = mp.Register("examples.pipe.writeBoth", func(ctx context.Context, e ends) (struct{}, error) {
	defer e.Parent.Close()
	defer e.Child.Close()
	for _, s := range []struct {
		c   *mp.Conn
		msg string
	}{{e.Parent, "parent1"}, {e.Parent, "parent2"}, {e.Child, "python1"}, {e.Child, "python2"}} {
		if err := s.c.Send(ctx, s.msg); err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, nil
})

// sendBothEnds is seed 17.
func sendBothEnds(ctx context.Context, w io.Writer) error {
	parentConn, childConn, err := mp.Pipe(true)
	if err != nil {
		return err
	}
	defer parentConn.Close()
	defer childConn.Close()
	p := mp.Command(writeBoth, ends{parentConn, childConn})
	if err := p.Start(); err != nil {
		return err
	}
	for _, c := range []*mp.Conn{parentConn, parentConn, childConn, childConn} {
		var s string
		if err := c.Recv(ctx, &s); err != nil {
			return err
		}
		fmt.Fprintln(w, s)
	}
	return p.Wait(ctx)
}

// loop2 is seed 19's receiver. Like the seed, it receives twice per turn
// and prints only the second message, so 20 messages print 10 lines. A nil
// *string is Python's None.
var loop2 = mp.Register("examples.pipe.loop2", func(ctx context.Context, c *mp.Conn) (struct{}, error) {
	defer c.Close()
	for {
		var msg *string
		if err := c.Recv(ctx, &msg); err != nil {
			return struct{}{}, err
		}
		if msg == nil {
			return struct{}{}, nil
		}
		var next string
		if err := c.Recv(ctx, &next); err != nil {
			return struct{}{}, err
		}
		fmt.Println(next)
	}
})

// noneSentinel is seed 19.
func noneSentinel(ctx context.Context, w io.Writer) error {
	conn1, conn2, err := mp.Pipe(true)
	if err != nil {
		return err
	}
	defer conn2.Close()
	p := mp.Command(loop2, conn1)
	p.Stdout = w
	err = p.Start()
	conn1.Close()
	if err != nil {
		return err
	}
	msg := "have you eaten?"
	for range 20 {
		conn2.Send(ctx, &msg)
	}
	conn2.Send(ctx, (*string)(nil))
	return p.Wait(ctx)
}

var untilEOF = mp.Register("examples.pipe.untilEOF", func(ctx context.Context, e ends) (struct{}, error) {
	e.Child.Close() // this process's copy of the sending end
	defer e.Parent.Close()
	for {
		var msg string
		err := e.Parent.Recv(ctx, &msg)
		if errors.Is(err, io.EOF) {
			return struct{}{}, nil
		}
		if err != nil {
			return struct{}{}, err
		}
		fmt.Println(msg)
	}
})

// eofClose is seed 20: the receiver sees io.EOF only once every copy of the
// sending end (the parent's and its own) is closed; without the Close calls
// it would wait forever.
func eofClose(ctx context.Context, w io.Writer) error {
	conn1, conn2, err := mp.Pipe(true)
	if err != nil {
		return err
	}
	p := mp.Command(untilEOF, ends{conn1, conn2})
	p.Stdout = w
	err = p.Start()
	conn1.Close()
	if err != nil {
		conn2.Close()
		return err
	}
	for range 20 {
		conn2.Send(ctx, "have you eaten?")
	}
	conn2.Close()
	return p.Wait(ctx)
}

// meal is what the producer and consumer get.
type meal struct {
	Pipe1, Pipe2 *mp.Conn
	Name, Food   string
}

// The seed's random pauses were up to a second; 100 ms keeps the tour brisk.
const pause = 100 * time.Millisecond

var producer = mp.Register("examples.pipe.producer", func(ctx context.Context, m meal) (struct{}, error) {
	m.Pipe1.Close()
	defer m.Pipe2.Close()
	for i := range 10 {
		sleepUpTo(ctx, pause)
		f := fmt.Sprintf("%s%s%d", m.Name, m.Food, i)
		fmt.Printf("\033[1;31m%s\033[0m\n", f)
		if err := m.Pipe2.Send(ctx, f); err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, nil
})

var consumer = mp.Register("examples.pipe.consumer", func(ctx context.Context, m meal) (struct{}, error) {
	m.Pipe2.Close()
	defer m.Pipe1.Close()
	for {
		var f string
		err := m.Pipe1.Recv(ctx, &f)
		if errors.Is(err, io.EOF) {
			return struct{}{}, nil
		}
		if err != nil {
			return struct{}{}, err
		}
		fmt.Printf("\033[1;32m%s consumed %s\033[0m\n", m.Name, f)
		sleepUpTo(ctx, pause)
	}
})

// producerConsumer is seed 21: each side closes the end it does not use,
// the parent closes both, and the consumer ends at io.EOF when the
// producer is done.
func producerConsumer(ctx context.Context, w io.Writer) error {
	pipe1, pipe2, err := mp.Pipe(true)
	if err != nil {
		return err
	}
	p := mp.Command(producer, meal{pipe1, pipe2, "alex", "slop"})
	c := mp.Command(consumer, meal{pipe1, pipe2, "egon", ""})
	p.Stdout, c.Stdout = w, w
	err = examples.StartAll(p, c)
	pipe1.Close()
	pipe2.Close()
	if err != nil {
		return err
	}
	return examples.WaitAll(ctx, p, c)
}
