package subprocess

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/subprocess"
)

// childEnv is the environment variable that makes this program, run again
// by seeds 75 and 76, the child of their line protocol: "flush" answers
// each line at once, "no-flush" leaves the answers in its buffer.
const childEnv = "MP_TOUR_LINE_CHILD"

func init() {
	// The child must not go on to be the tour (or a test): it answers its
	// input here, before main runs, and exits.
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(answerLines(os.Stdin, os.Stdout, mode == "flush"))
	}
	examples.Add(examples.Example{Seed: 75, Topic: "subprocess", Name: "subprocess-line-protocol", Title: "a long-lived child answers one line per request", Run: lineProtocol})
	examples.Add(examples.Example{Seed: 76, Topic: "subprocess", Name: "subprocess-line-child", Title: "the child side: answer each stdin line, and flush", Run: lineChild})
}

// answerLines is seed 76's child: it answers "ok" to every line of in until
// in ends. Go's os.Stdout is not buffered, but most programs' output to a
// pipe is, as Python's print is; this child buffers its output as they do,
// so it must flush for each answer to leave at once.
func answerLines(in io.Reader, out io.Writer, flush bool) int {
	stdout := bufio.NewWriter(out)
	requests := bufio.NewScanner(in)
	for requests.Scan() {
		// The seed saves the clipboard's image under the path it read; this
		// child, like the seed's stubs, only says it did.
		fmt.Fprintln(stdout, "ok")
		if flush && stdout.Flush() != nil { // sys.stdout.flush()
			return 1
		}
	}
	if stdout.Flush() != nil { // what is left goes out at exit
		return 1
	}
	return 0
}

// startChild runs this program again as the line protocol's child.
func startChild(ctx context.Context, flush bool) (*subprocess.Popen, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	mode := "no-flush"
	if flush {
		mode = "flush"
	}
	return subprocess.Start(ctx, []string{self}, &subprocess.Options{
		Stdin: subprocess.Pipe, Stdout: subprocess.Pipe, ExtraEnv: []string{childEnv + "=" + mode},
	})
}

// lineProtocol is seed 75: keep one child and talk to it, a request and a
// reply at a time. The seed reads paths from the keyboard; the port answers
// the prompts as the seed's piped run does: "a", "b", then "quit".
func lineProtocol(ctx context.Context, w io.Writer) error {
	proc, err := startChild(ctx, true)
	if err != nil {
		return err
	}
	replies := bufio.NewReader(proc.Stdout)
	for _, input := range []string{"a", "b", "quit"} {
		if _, exited := proc.Poll(); exited {
			break
		}
		fmt.Fprint(w, "Please Input a path: ")
		if input == "quit" {
			break
		}
		// The trailing newline is required: the child reads whole lines.
		if _, err := fmt.Fprintf(proc.Stdin, "/home/brt/%s.jpg\n", input); err != nil {
			break // the child is gone; Wait says how it ended
		}
		state, err := replies.ReadString('\n')
		if err != nil {
			break
		}
		if state == "ok\n" {
			fmt.Fprintln(w, "Well Done.")
		}
	}
	fmt.Fprintln(w)
	proc.Stdin.Close() // the child's loop ends with its input
	code, err := proc.Wait(ctx)
	fmt.Fprintln(w, "child exited with", code)
	return err
}

// patience is how long lineChild waits for an answer that a child without
// Flush cannot give: it stays in the child's buffer until the child exits.
const patience = 300 * time.Millisecond

// lineChild is seed 76: first run alone, as in
// `printf 'x\ny\n' | python3 76-subprocess-line-protocol-child.py`, then
// asked one question without the flush, to show why the seed flushes.
func lineChild(ctx context.Context, w io.Writer) error {
	examples.Note(w, "the child is this Go program run again; Go's os.Stdout has no buffer, so the child writes through a bufio.Writer, as Python's print to a pipe does, and flushes it after each answer")
	self, err := os.Executable()
	if err != nil {
		return err
	}
	_, err = subprocess.Run(ctx, []string{self}, &subprocess.Options{
		Input: []byte("x\ny\n"), Stdout: subprocess.Writer(w), ExtraEnv: []string{childEnv + "=flush"},
	})
	if err != nil {
		return err
	}
	return withoutFlush(ctx, w)
}

// withoutFlush asks a child that does not flush one question: no answer
// comes until its stdin is closed and it exits.
func withoutFlush(ctx context.Context, w io.Writer) error {
	proc, err := startChild(ctx, false)
	if err != nil {
		return err
	}
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(proc.Stdout).ReadString('\n')
		answer <- line
	}()
	io.WriteString(proc.Stdin, "/home/brt/c.jpg\n")
	t := time.NewTimer(patience)
	defer t.Stop()
	select {
	case line := <-answer:
		err = fmt.Errorf("a child that does not flush answered %q at once", line)
	case <-t.C:
		fmt.Fprintf(w, "without the flush: no answer %v after the request, it waits in the child's buffer\n", patience)
		proc.Stdin.Close()
		fmt.Fprintf(w, "stdin closed: the child ends, and its last flush sends %q\n", <-answer)
	}
	proc.Stdin.Close()
	if _, werr := proc.Wait(ctx); err == nil {
		err = werr
	}
	return err
}
