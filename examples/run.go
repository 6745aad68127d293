package examples

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// leftBehindWait bounds how long RunTo waits, after the example has
// returned, for the last of its output: only a process it left running can
// hold the pipe open that long.
const leftBehindWait = 2 * time.Second

// RunTo runs the example and copies everything it prints to dst.
//
// The example, and every process it passes its writer to, write into one
// pipe: the writer the example gets is the pipe's *os.File, which mp and
// package subprocess hand to a child as its own standard output, so that the
// child writes into the pipe itself rather than through a copy of its own.
// Lines therefore reach dst in the order they were written, across all the
// processes: a line a process printed before it handed a message on comes
// before every line printed after that message was received. (Were each
// child's output copied through a pipe of its own, a reader's "Get A" could
// come out before the writer's "Put A".) A Write of up to 4096 bytes is
// never split by another process's.
func (e Example) RunTo(ctx context.Context, dst io.Writer) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	copied := make(chan error, 1)
	go func() { copied <- drain(dst, r) }()
	runErr := e.Run(ctx, w)
	w.Close()
	r.SetReadDeadline(time.Now().Add(leftBehindWait))
	copyErr := <-copied
	if errors.Is(copyErr, os.ErrDeadlineExceeded) {
		copyErr = fmt.Errorf("examples: %s returned, but a process it started still holds its output", e.ID())
	}
	return errors.Join(runErr, copyErr)
}

// drain copies r to dst until r ends. If dst fails, it goes on reading,
// so that the example's writes never block on a full pipe, and returns
// dst's first error.
func drain(dst io.Writer, r io.Reader) error {
	buf := make([]byte, 32<<10)
	var werr error
	for {
		n, err := r.Read(buf)
		if n > 0 && werr == nil {
			_, werr = dst.Write(buf[:n])
		}
		if err == io.EOF {
			return werr
		}
		if err != nil {
			return errors.Join(werr, err)
		}
	}
}
