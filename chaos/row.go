package chaos

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mpgo/mp/internal/race"
)

// Config says how hard the experiments push. The zero value is the short
// mode.
type Config struct {
	// Long selects the long mode: the sizes the figures in the package
	// documentation are quoted for. The short mode runs the same
	// experiments smaller, in about two minutes in all.
	Long bool
	// Dir is a directory for the files the experiments write (the
	// append-only execution logs). If empty, each experiment makes one
	// under os.TempDir and removes it.
	Dir string
	// Logf, if not nil, receives progress lines.
	Logf func(format string, args ...any)
}

// pick returns short or long according to the mode.
func (c Config) pick(short, long int) int {
	if c.Long {
		return long
	}
	return short
}

func (c Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// Count is a number an experiment counted, and the value it must have for
// the experiment to pass.
type Count struct {
	Name string
	N    int
	// Want is the value N must have, unless Check is false (a count that
	// is reported, not checked).
	Want  int
	Check bool
}

// Figure is a measurement an experiment reports but does not check:
// latencies, memory, durations.
type Figure struct {
	Name  string
	Value string
}

// Row is one experiment's outcome: one line of the table.
type Row struct {
	Name    string
	Counts  []Count
	Figures []Figure
	// Flags name the figures past the goal stated for them. They do not
	// fail the experiment: timing depends on the machine.
	Flags []string
	// RaceFlags name the latencies past their goals in a build with the
	// race detector, which the goals are not written for (see goal).
	RaceFlags []string
	// Errors are failures that are not a count: an object that could not
	// be made, a child that never answered. Any makes the row fail.
	Errors  []string
	Elapsed time.Duration
}

// Pass reports whether every checked count has its wanted value and no
// error occurred.
func (r *Row) Pass() bool {
	return len(r.Failures()) == 0
}

// Failures lists what made the row fail, one line each.
func (r *Row) Failures() []string {
	out := append([]string(nil), r.Errors...)
	for _, c := range r.Counts {
		if c.Check && c.N != c.Want {
			out = append(out, fmt.Sprintf("%s = %d, want %d", c.Name, c.N, c.Want))
		}
	}
	return out
}

// count records a number that is reported and not checked.
func (r *Row) count(name string, n int) {
	r.Counts = append(r.Counts, Count{Name: name, N: n})
}

// expect records a number that must equal want.
func (r *Row) expect(name string, n, want int) {
	r.Counts = append(r.Counts, Count{Name: name, N: n, Want: want, Check: true})
}

// figure records a measurement.
func (r *Row) figure(name, format string, args ...any) {
	r.Figures = append(r.Figures, Figure{Name: name, Value: fmt.Sprintf(format, args...)})
}

// goal flags a duration past its goal. The goals are written for builds
// without the race detector, which slows every figure several times: in a
// build with it, a figure past its goal goes to RaceFlags instead.
func (r *Row) goal(name string, d, limit time.Duration) {
	if d <= limit {
		return
	}
	f := fmt.Sprintf("%s %v > %v", name, d.Round(time.Microsecond), limit)
	if race.Enabled {
		r.RaceFlags = append(r.RaceFlags, f)
	} else {
		r.Flags = append(r.Flags, f)
	}
}

// fail records an error that fails the row.
func (r *Row) fail(format string, args ...any) {
	r.Errors = append(r.Errors, fmt.Sprintf(format, args...))
}

// Experiment is one fault injected into real processes, with what must
// still hold.
type Experiment struct {
	Name string
	Run  func(ctx context.Context, cfg Config) Row
}

// Experiments returns every experiment, in the order the table shows them.
func Experiments() []Experiment {
	return []Experiment{
		{"pool-kill", PoolKill},
		{"parent-kill", ParentKill},
		{"cycles", Cycles},
		{"queue-kill", QueueKill},
		{"lock-kill", LockKill},
		{"manager-hostile", ManagerHostile},
		{"subprocess-escape", SubprocessEscape},
	}
}

// RunAll runs the experiments one after the other, timing each, and
// returns their rows.
func RunAll(ctx context.Context, cfg Config, exps []Experiment) []Row {
	rows := make([]Row, 0, len(exps))
	for _, e := range exps {
		cfg.logf("chaos: %s …", e.Name)
		start := time.Now()
		r := e.Run(ctx, cfg)
		r.Name = e.Name
		r.Elapsed = time.Since(start)
		cfg.logf("chaos: %s done in %v", e.Name, r.Elapsed.Round(time.Millisecond))
		rows = append(rows, r)
	}
	return rows
}

// WriteTable prints rows as a table: one line per experiment with its
// verdict, time, counts and figures, then a line per failure or flag.
func WriteTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EXPERIMENT\tRESULT\tTIME\tCOUNTS\tFIGURES")
	for i := range rows {
		r := &rows[i]
		verdict := "pass"
		if !r.Pass() {
			verdict = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1fs\t%s\t%s\n", r.Name, verdict, r.Elapsed.Seconds(), formatCounts(r.Counts), formatFigures(r.Figures))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for i := range rows {
		for _, f := range rows[i].Failures() {
			fmt.Fprintf(w, "%s: FAIL: %s\n", rows[i].Name, f)
		}
		for _, f := range rows[i].Flags {
			fmt.Fprintf(w, "%s: past goal: %s\n", rows[i].Name, f)
		}
		for _, f := range rows[i].RaceFlags {
			fmt.Fprintf(w, "%s: past goal with the race detector on, which the goal is not for: %s\n", rows[i].Name, f)
		}
	}
	return nil
}

func formatCounts(cs []Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s=%d", c.Name, c.N)
		if c.Check && c.N != c.Want {
			parts[i] += fmt.Sprintf("(want %d)", c.Want)
		}
	}
	return strings.Join(parts, " ")
}

func formatFigures(fs []Figure) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Name + "=" + f.Value
	}
	return strings.Join(parts, " ")
}
