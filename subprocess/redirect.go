package subprocess

import (
	"io"
	"os"
)

// Redirect says where one of a child's standard streams comes from or goes
// to: one of the Stream constants, or a value made by File, Reader, Writer
// or StdoutOf. A nil Redirect means Inherit.
type Redirect interface {
	isRedirect()
}

// Stream is a Redirect that needs no value.
type Stream int

const (
	// Inherit gives the child the parent's own stream (Python: None). It is
	// what a nil Redirect means.
	Inherit Stream = iota
	// Pipe connects the stream to a new pipe. Run and Communicate read and
	// write it for you; with Start, the parent's end is Popen.Stdin,
	// Popen.Stdout or Popen.Stderr. Python: subprocess.PIPE.
	Pipe
	// DevNull connects the stream to the null device. Python:
	// subprocess.DEVNULL.
	DevNull
	// ToStdout, for Stderr only, sends the child's stderr wherever its
	// stdout goes. Python: subprocess.STDOUT.
	ToStdout
)

func (Stream) isRedirect() {}

// String returns the constant's name.
func (s Stream) String() string {
	switch s {
	case Inherit:
		return "Inherit"
	case Pipe:
		return "Pipe"
	case DevNull:
		return "DevNull"
	case ToStdout:
		return "ToStdout"
	}
	return "Stream(?)"
}

// fileRedirect hands the child an open file as is.
type fileRedirect struct{ f *os.File }

func (fileRedirect) isRedirect() {}

// File connects a stream to f, which the child receives as its own
// descriptor (no copying in between). The caller keeps f and closes it
// when it likes; the child has its own copy.
func File(f *os.File) Redirect { return fileRedirect{f} }

// readerRedirect feeds the child's stdin from a reader.
type readerRedirect struct{ r io.Reader }

func (readerRedirect) isRedirect() {}

// Reader feeds the child's stdin from r. If r is an *os.File, the child gets
// it directly, as with File; otherwise a goroutine copies r into a pipe
// until r ends, as os/exec does. Wait waits for that copy to end, except
// after the process was stopped or WaitDelay expired: then it stops waiting
// and the copy ends at r's next Read.
func Reader(r io.Reader) Redirect { return readerRedirect{r} }

// writerRedirect sends a child's output stream to a writer.
type writerRedirect struct{ w io.Writer }

func (writerRedirect) isRedirect() {}

// Writer sends the child's stdout or stderr to w. If w is an *os.File, the
// child gets it directly, as with File; otherwise a goroutine copies from a
// pipe into w, and Wait waits for the copy to end. w need not be safe for
// concurrent use unless it is given to both Stdout and Stderr of the same
// process or to several processes.
func Writer(w io.Writer) Redirect { return writerRedirect{w} }

// popenRedirect takes another process's stdout pipe.
type popenRedirect struct{ p *Popen }

func (popenRedirect) isRedirect() {}

// StdoutOf, as Stdin, connects the child's stdin to the stdout pipe of the
// started process p, which must have been started with Stdout: Pipe. Once
// the new child has started, the parent closes its own copy of that pipe
// and sets p.Stdout to nil, so that p gets SIGPIPE if the new child exits
// early. This is Python's Popen(stdin=p1.stdout) followed by
// p1.stdout.close().
func StdoutOf(p *Popen) Redirect { return popenRedirect{p} }
