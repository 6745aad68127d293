// Package tour runs examples of package examples under headings that say
// what each shows, where its source is, and how it ended: the tour of the
// mp command, and of the cluster module's command.
package tour

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mpgo/mp/examples"
)

// exampleTimeout bounds one example of the tour.
const exampleTimeout = 2 * time.Minute

// tourHeader tells a reader how to read the tour. The tour, its list and
// its help print it first.
const tourHeader = `%[1]s runs the Go ports of the Python seed programs, grouped by topic.

How to read it:
  === 29 queue-write-read-terminate — what it shows
        An example starts. 29 is the number of the seed program it ports.
  go: examples/queue/many.go  python: examples/seeds/29-queue-write-read-terminate.py
        Its Go source and its Python original, from the repository's root
        (%[1]s -python 29 prints the original).
  note: ...
        Where the port differs from the Python program, and why.
  --- 29 took 312ms
        It ended ("--- FAIL 29: ..." if it failed).
Between === and --- comes what the example printed, from this process and
from every process it started, in the order they wrote it. As in Python,
the output of concurrent processes varies from run to run.
Sleeps are scaled down: where a seed sleeps for seconds, its port mostly
sleeps tenths of a second, so the times printed are shorter than Python's.
`

// tourUsage is the tour's synopsis.
const tourUsage = "usage: %s [-list | -python] [topic|seed|name ...]\n"

// Run runs the examples that args select (all those registered, by
// default), each under a heading, and returns the exit code: 1 if any
// failed, 2 for a usage error. cmd is the command as a user types it,
// "mp tour".
func Run(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) int {
	header, usage := fmt.Sprintf(tourHeader, cmd), fmt.Sprintf(tourUsage, cmd)
	fs := flag.NewFlagSet("tour", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	list := fs.Bool("list", false, "list the examples instead of running them")
	python := fs.Bool("python", false, "print the Python originals of the examples instead of running them")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, header+"\n"+usage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprint(stderr, usage)
		return 2
	}
	sel, err := selectExamples(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return 2
	}
	switch {
	case *python:
		return printOriginals(cmd, stdout, stderr, sel)
	case *list:
		fmt.Fprint(stdout, header+"\n")
		listExamples(stdout, sel)
		return 0
	}
	fmt.Fprint(stdout, header)
	return runExamples(ctx, sel, stdout)
}

func selectExamples(args []string) ([]examples.Example, error) {
	if len(args) == 0 {
		return examples.All(), nil
	}
	var out []examples.Example
	for _, a := range args {
		sel, err := examples.Select(a)
		if err != nil {
			return nil, err
		}
		out = append(out, sel...)
	}
	return out, nil
}

func listExamples(w io.Writer, sel []examples.Example) {
	topic := ""
	for _, e := range sel {
		if e.Topic != topic {
			topic = e.Topic
			fmt.Fprintf(w, "%s:\n", topic)
		}
		fmt.Fprintf(w, "  %-4s %-32s %s\n", seedLabel(e), e.Name, e.Title)
	}
}

// printOriginals prints the Python programs the examples port.
func printOriginals(cmd string, stdout, stderr io.Writer, sel []examples.Example) int {
	code := 0
	for _, e := range sel {
		for _, n := range append([]int{e.Seed}, e.Also...) {
			if n == 0 {
				continue
			}
			src, err := examples.Original(n)
			if err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
				code = 1
				continue
			}
			fmt.Fprintf(stdout, "# ---- seed %02d, ported by example %s ----\n%s\n", n, heading(e), src)
		}
	}
	return code
}

// seedLabel is the seed number of an example, or "-" for one of mp's own.
func seedLabel(e examples.Example) string {
	if e.Seed == 0 {
		return "-"
	}
	return e.ID()
}

// heading names an example: "07 process-globals-not-shared", or just the
// name of an example that ports no seed.
func heading(e examples.Example) string {
	if e.Seed == 0 {
		return e.Name
	}
	return e.ID() + " " + e.Name
}

func runExamples(ctx context.Context, sel []examples.Example, stdout io.Writer) int {
	failed, ran := 0, 0
	topic := ""
	for _, e := range sel {
		if e.Topic != topic {
			topic = e.Topic
			fmt.Fprintf(stdout, "\n######## %s ########\n", topic)
		}
		ran++
		if err := runOne(ctx, e, stdout); err != nil {
			failed++
			fmt.Fprintf(stdout, "--- FAIL %s: %v\n", e.ID(), err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	fmt.Fprintf(stdout, "\n%d of %d examples run, %d failed\n", ran, len(sel), failed)
	if failed > 0 {
		return 1
	}
	return 0
}

func runOne(ctx context.Context, e examples.Example, stdout io.Writer) error {
	fmt.Fprintf(stdout, "\n=== %s — %s\n", heading(e), e.Title)
	where := "go: " + e.Source()
	if orig := e.Originals(); len(orig) > 0 {
		where += "  python: " + strings.Join(orig, ", ")
	}
	fmt.Fprintln(stdout, where)
	ctx, cancel := context.WithTimeout(ctx, exampleTimeout)
	defer cancel()
	start := time.Now()
	err := e.RunTo(ctx, stdout)
	fmt.Fprintf(stdout, "--- %s took %v\n", e.ID(), time.Since(start).Round(time.Millisecond))
	return err
}
