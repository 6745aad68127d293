package threading

import (
	"bufio"
	"context"
	"io"
	"time"
)

// typist simulates a user at the keyboard for the interactive seeds: a
// goroutine types lines, one every delay, into a pipe that the example
// reads as its standard input. Close stops it and waits for it.
type typist struct {
	lines *bufio.Scanner
	r     *io.PipeReader
	stop  chan struct{}
	done  chan struct{}
}

// newTypist starts typing lines.
func newTypist(delay time.Duration, lines ...string) *typist {
	r, pw := io.Pipe()
	t := &typist{lines: bufio.NewScanner(r), r: r, stop: make(chan struct{}), done: make(chan struct{})}
	go t.typeLines(pw, delay, lines)
	return t
}

func (t *typist) typeLines(pw *io.PipeWriter, delay time.Duration, lines []string) {
	defer close(t.done)
	defer pw.Close()
	for _, l := range lines {
		select {
		case <-time.After(delay):
		case <-t.stop:
			return
		}
		if _, err := io.WriteString(pw, l+"\n"); err != nil {
			return // the reader closed early
		}
	}
}

// readLine returns the next line typed, or io.EOF after the last. It
// returns ctx's error if ctx has ended.
func (t *typist) readLine(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if !t.lines.Scan() {
		if err := t.lines.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
	return t.lines.Text(), nil
}

// Close stops the typist and waits for its goroutine.
func (t *typist) Close() {
	close(t.stop)
	t.r.Close()
	<-t.done
}
