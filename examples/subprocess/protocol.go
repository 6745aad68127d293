package subprocess

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/subprocess"
)

func init() {
	examples.Add(examples.Example{Seed: 75, Topic: "subprocess", Name: "subprocess-line-protocol", Title: "a long-lived child answers one line per request", Run: lineProtocol})
	examples.Add(examples.Example{Seed: 76, Topic: "subprocess", Name: "subprocess-line-child", Title: "the child side: answer each stdin line", Run: lineChild})
}

// child is seed 76 as a shell loop: it answers "ok" to every line until its
// stdin ends. echo is a shell builtin writing straight to the pipe, so each
// answer leaves at once (the seed's Python child must flush for that).
var child = []string{"sh", "-c", `while IFS= read -r path; do echo ok; done`}

// lineProtocol is seed 75: keep one child and talk to it, a request and a
// reply at a time. The seed reads paths from the keyboard; the port answers
// the prompts as the seed's piped run does: "a", "b", then "quit".
func lineProtocol(ctx context.Context, w io.Writer) error {
	proc, err := subprocess.Start(ctx, child, &subprocess.Options{Stdin: subprocess.Pipe, Stdout: subprocess.Pipe})
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
			return err
		}
		state, err := replies.ReadString('\n')
		if err != nil {
			return err
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

// lineChild is seed 76 run alone, as in
// `printf 'x\ny\n' | python3 76-subprocess-line-protocol-child.py`.
func lineChild(ctx context.Context, w io.Writer) error {
	_, err := subprocess.Run(ctx, child, &subprocess.Options{Input: []byte("x\ny\n"), Stdout: subprocess.Writer(w)})
	return err
}
