package subprocess

import (
	"fmt"
	"io"
	"os"
)

// stdio is the plumbing of one start: the files the child gets, the
// parent's ends, and the copy loops to run once the child has started.
type stdio struct {
	child [3]*os.File // the child's stdin, stdout, stderr
	// parent holds the parent's end of each Pipe stream (index as child).
	parent [3]*os.File
	// closeAfterStart are files only the child needs: the child's pipe
	// ends and the null device.
	closeAfterStart []*os.File
	// parentEnds are the parent's ends of every pipe made, closed if the
	// start fails.
	parentEnds []*os.File
	// feed copies a Reader into the child's stdin; drain copies a child's
	// output into a Writer. They start once the child has started.
	feed   *copyJob
	drains []*copyJob
	// from is the process whose stdout became the child's stdin.
	from *Popen
	// null is the null device, opened once if needed.
	null *os.File
}

// copyJob is a copy between a pipe the parent holds and a caller's reader
// or writer.
type copyJob struct {
	pipe *os.File
	r    io.Reader // for a feed
	w    io.Writer // for a drain
}

// setup resolves the three redirects into files.
func (s *settings) setup() (st *stdio, err error) {
	st = &stdio{}
	defer func() {
		if err != nil {
			st.abort()
		}
	}()
	if err = st.input(s.Stdin); err != nil {
		return st, err
	}
	if err = st.output(1, s.Stdout); err != nil {
		return st, err
	}
	if s.Stderr == ToStdout {
		st.child[2] = st.child[1]
		return st, nil
	}
	return st, st.output(2, s.Stderr)
}

func (st *stdio) input(r Redirect) error {
	switch r := r.(type) {
	case readerRedirect:
		if f, ok := r.r.(*os.File); ok {
			st.child[0] = f
			return nil
		}
		c, p, err := st.pipe(0)
		if err != nil {
			return err
		}
		st.child[0] = c
		st.feed = &copyJob{pipe: p, r: r.r}
		return nil
	case popenRedirect:
		return st.takeStdout(r.p)
	case Stream:
		if r == Pipe {
			c, p, err := st.pipe(0)
			st.child[0], st.parent[0] = c, p
			return err
		}
	}
	return st.common(0, r, os.Stdin)
}

// takeStdout makes p's stdout pipe the child's stdin. giveStdout completes
// the hand-over once the child has started.
func (st *stdio) takeStdout(p *Popen) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pipes[1] == nil || p.comm != nil {
		return fmt.Errorf("%w: process %d", ErrPipeTaken, p.Pid)
	}
	st.child[0] = p.pipes[1]
	st.from = p
	return nil
}

func (st *stdio) output(i int, r Redirect) error {
	switch r := r.(type) {
	case writerRedirect:
		if f, ok := r.w.(*os.File); ok {
			st.child[i] = f
			return nil
		}
		c, p, err := st.pipe(i)
		if err != nil {
			return err
		}
		st.child[i] = c
		st.drains = append(st.drains, &copyJob{pipe: p, w: r.w})
		return nil
	case Stream:
		if r == Pipe {
			c, p, err := st.pipe(i)
			st.child[i], st.parent[i] = c, p
			return err
		}
	}
	return st.common(i, r, []*os.File{os.Stdin, os.Stdout, os.Stderr}[i])
}

// common handles the redirects that mean the same for every stream.
func (st *stdio) common(i int, r Redirect, inherited *os.File) error {
	switch r := r.(type) {
	case nil:
		st.child[i] = inherited
	case fileRedirect:
		st.child[i] = r.f
	case Stream:
		switch r {
		case Inherit:
			st.child[i] = inherited
		case DevNull:
			f, err := st.devNull()
			st.child[i] = f
			return err
		}
	}
	return nil
}

// pipe makes a pipe for stream i and records which end is whose: the
// child reads stdin's pipe and writes the others.
func (st *stdio) pipe(i int) (child, parent *os.File, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("subprocess: pipe: %w", err)
	}
	child, parent = w, r
	if i == 0 {
		child, parent = r, w
	}
	st.closeAfterStart = append(st.closeAfterStart, child)
	st.parentEnds = append(st.parentEnds, parent)
	return child, parent, nil
}

func (st *stdio) devNull() (*os.File, error) {
	if st.null == nil {
		f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("subprocess: %w", err)
		}
		st.null = f
		st.closeAfterStart = append(st.closeAfterStart, f)
	}
	return st.null, nil
}

// abort closes every file setup opened; used when the start fails.
func (st *stdio) abort() {
	for _, f := range st.closeAfterStart {
		f.Close()
	}
	for _, f := range st.parentEnds {
		f.Close()
	}
}
