// Command chaos runs mp's chaos experiments and prints their table; with
// -fuzztime it also runs every fuzz target of the module for that long,
// and with -keepcorpus copies what the fuzzer found interesting to each
// package's testdata/fuzz, to be committed as seeds. Run it from inside the
// module:
//
//	go run ./chaos/cmd/chaos -mode long -runs 3 -fuzztime 1m
//
// It exits with status 1 if any experiment or fuzz target failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/chaos"
)

func main() {
	mp.Main()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

// errFailed reports experiments or fuzz targets that failed; the table
// says which.
var errFailed = errors.New("some experiments failed")

// Run parses args, runs what they ask for and prints the tables to
// stdout, progress to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mode := fs.String("mode", "short", "short or long")
	runs := fs.Int("runs", 1, "how many times to run the experiments")
	only := fs.String("only", "", "comma-separated names of the experiments to run (default all)")
	fuzztime := fs.Duration("fuzztime", 0, "run every fuzz target of the module for this long (0: none)")
	keep := fs.Bool("keepcorpus", false, "copy the inputs fuzzing found interesting to each package's testdata/fuzz")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *mode != "short" && *mode != "long" {
		return fmt.Errorf("-mode %q: want short or long", *mode)
	}
	exps, err := pick(*only)
	if err != nil {
		return err
	}
	cfg := chaos.Config{Long: *mode == "long", Logf: func(format string, args ...any) {
		fmt.Fprintf(stderr, format+"\n", args...)
	}}
	failed := false
	for i := range *runs {
		fmt.Fprintf(stdout, "run %d of %d, %s mode, %s\n", i+1, *runs, *mode, time.Now().UTC().Format(time.RFC3339))
		rows := chaos.RunAll(ctx, cfg, exps)
		chaos.WriteTable(stdout, rows)
		fmt.Fprintln(stdout)
		failed = failed || slices.ContainsFunc(rows, func(r chaos.Row) bool { return !r.Pass() })
	}
	if *fuzztime > 0 {
		ok, err := fuzzAll(ctx, *fuzztime, *keep, stdout, stderr)
		if err != nil {
			return err
		}
		failed = failed || !ok
	}
	if failed {
		return errFailed
	}
	return nil
}

// pick returns the experiments named in a comma-separated list, or all.
func pick(names string) ([]chaos.Experiment, error) {
	all := chaos.Experiments()
	if names == "" {
		return all, nil
	}
	var out []chaos.Experiment
	for n := range strings.SplitSeq(names, ",") {
		i := slices.IndexFunc(all, func(e chaos.Experiment) bool { return e.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("no experiment %q", n)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// fuzzAll runs every fuzz target of the module for d and prints their
// table; it reports whether none found anything. With keep, it copies each
// target's new corpus entries to its testdata.
func fuzzAll(ctx context.Context, d time.Duration, keep bool, stdout, stderr io.Writer) (bool, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return false, fmt.Errorf("finding the module's root (run from inside it): %w", err)
	}
	root := strings.TrimSpace(string(out))
	targets, err := chaos.FuzzTargets(root)
	if err != nil {
		return false, err
	}
	var rows []chaos.Row
	for _, t := range targets {
		fmt.Fprintf(stderr, "fuzzing %s %s for %v\n", t.Pkg, t.Name, d)
		r := chaos.Fuzz(ctx, root, t, d)
		if keep {
			n, err := chaos.KeepCorpus(ctx, root, t)
			if err != nil {
				r.Errors = append(r.Errors, fmt.Sprintf("keeping the corpus: %v", err))
			}
			r.Counts = append(r.Counts, chaos.Count{Name: "kept", N: n})
		}
		rows = append(rows, r)
	}
	fmt.Fprintf(stdout, "fuzz targets, %v each\n", d)
	chaos.WriteTable(stdout, rows)
	return !slices.ContainsFunc(rows, func(r chaos.Row) bool { return !r.Pass() }), nil
}
