package subprocess

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/subprocess"
)

func init() {
	examples.Add(examples.Example{Seed: 78, Topic: "subprocess", Name: "subprocess-communicate-input", Title: "feed an interactive program through stdin with Communicate", Run: communicateInput})
}

// communicateInput is seed 78. The seed feeds `set q=mx`, `python.org` and
// `exit` to nslookup, which needs the program and a network; this port
// feeds an interactive program every machine has, the shell, the same way:
// Communicate writes all the input, closes stdin, reads stdout and stderr
// to the end and waits. Nothing in its output should pass for a DNS
// answer.
func communicateInput(ctx context.Context, w io.Writer) error {
	examples.Note(w, "the seed feeds nslookup, which needs the program and a network; this port feeds sh in the same way, and no DNS lookup happens")
	fmt.Fprintln(w, "$ sh")
	p, err := subprocess.Start(ctx, []string{"sh"}, &subprocess.Options{
		Stdin: subprocess.Pipe, Stdout: subprocess.Pipe, Stderr: subprocess.Pipe,
	})
	if err != nil {
		return err
	}
	input := "a=6\nb=7\nno_such_command_here\necho \"sh says $a times $b is $((a * b))\"\nexit\n"
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	output, errOut, err := p.Communicate(cctx, []byte(input))
	if err != nil {
		p.Kill()
		p.Communicate(ctx, nil)
		return err
	}
	code, _ := p.Poll()
	fmt.Fprint(w, string(output))
	fmt.Fprintf(w, "stderr: %q\n", errOut)
	fmt.Fprintln(w, "Exit Code: ", code)
	return nil
}
