package subprocess

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/subprocess"
)

func init() {
	examples.Add(examples.Example{Seed: 74, Topic: "subprocess", Name: "subprocess-pipeline", Title: "ls -l | wc: one child's stdout is the next one's stdin", Run: pipeline})
}

// pipeline is seed 74: Popen(stdin=child1.stdout), then the same chain with
// RunPipeline, which also reports every exit status.
func pipeline(ctx context.Context, w io.Writer) error {
	dir, err := seedDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	child1, err := subprocess.Start(ctx, []string{"ls", "-l"}, &subprocess.Options{Dir: dir, Stdout: subprocess.Pipe})
	if err != nil {
		return err
	}
	child2, err := subprocess.Start(ctx, []string{"wc"}, &subprocess.Options{
		Stdin: subprocess.StdoutOf(child1), Stdout: subprocess.Pipe, Stderr: subprocess.ToStdout,
	})
	if err != nil {
		child1.Kill()
		child1.Wait(ctx)
		return err
	}
	out, errOut, err := child2.Communicate(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := child1.Wait(ctx); err != nil {
		return err
	}
	stderr := "nil" // Python: None, since stderr went into stdout
	if errOut != nil {
		stderr = fmt.Sprintf("%q", errOut)
	}
	fmt.Fprintf(w, "(%q, %s)\n", out, stderr)

	res, err := subprocess.RunPipeline(ctx, [][]string{{"ls", "-l"}, {"wc", "-l"}}, &subprocess.Options{Dir: dir, Stdout: subprocess.Pipe})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "RunPipeline: %q, return codes", res.Stdout())
	for _, c := range res.Commands {
		fmt.Fprintf(w, " %d", c.ReturnCode)
	}
	fmt.Fprintln(w)
	return nil
}
