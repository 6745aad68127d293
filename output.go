package mp

import (
	"bufio"
	"io"
	"os"
	"sync"
	"time"
)

// tailSize is how much of a child's standard error mp keeps for ExitError.
const tailSize = 2048

// drainTimeout bounds how long Wait waits, after the child exited, for its
// output pipes to reach end of file: a grandchild that inherited them may
// keep them open (the hang os/exec's WaitDelay exists for).
const drainTimeout = time.Second

// outputCopy copies what a child writes to a pipe into a writer, one whole
// line per Write, so that lines from many children sharing a writer never
// mix mid-line. It keeps the tail of what went through.
type outputCopy struct {
	r    *os.File
	w    io.Writer
	done chan struct{}
	// mu guards tail.
	mu   sync.Mutex
	tail []byte
}

// newOutputCopy returns a pipe whose write end the child gets, and starts
// copying its read end into w.
func newOutputCopy(w io.Writer, goFn func(func())) (*outputCopy, *os.File, error) {
	r, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	oc := &outputCopy{r: r, w: w, done: make(chan struct{})}
	goFn(oc.run)
	return oc, pw, nil
}

func (oc *outputCopy) run() {
	defer close(oc.done)
	br := bufio.NewReaderSize(oc.r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			oc.keep(line)
			oc.w.Write(line)
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

func (oc *outputCopy) keep(p []byte) {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	oc.tail = append(oc.tail, p...)
	if len(oc.tail) > tailSize {
		oc.tail = append(oc.tail[:0], oc.tail[len(oc.tail)-tailSize:]...)
	}
}

// Tail returns the last bytes copied.
func (oc *outputCopy) Tail() []byte {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	return append([]byte(nil), oc.tail...)
}

// finish waits for the copy to reach end of file, at most until deadline,
// then closes the read end (which ends the copy).
func (oc *outputCopy) finish(deadline time.Time) {
	select {
	case <-oc.done:
	case <-time.After(time.Until(deadline)):
	}
	oc.r.Close()
	<-oc.done
}
