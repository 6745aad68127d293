package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/mpgo/mp/examples"
)

// exampleTimeout bounds one example of the tour.
const exampleTimeout = 2 * time.Minute

// tour runs the examples that args select (all by default), each under a
// heading, and returns 1 if any failed.
func tour(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tour", flag.ContinueOnError)
	fs.SetOutput(stderr)
	list := fs.Bool("list", false, "list the examples instead of running them")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	sel, err := selectExamples(fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, "mp tour:", err)
		return 2
	}
	if *list {
		listExamples(stdout, sel)
		return 0
	}
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
	ctx, cancel := context.WithTimeout(ctx, exampleTimeout)
	defer cancel()
	w := examples.NewLineWriter(stdout)
	start := time.Now()
	err := e.Run(ctx, w)
	w.Flush()
	fmt.Fprintf(stdout, "--- %s took %v\n", e.ID(), time.Since(start).Round(time.Millisecond))
	return err
}
