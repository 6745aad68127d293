// Package examplestest runs the tour's examples in tests and checks the
// shape of their output.
package examplestest

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/mptest"
)

// Run runs the example with the given seed number (or name) as the tour
// does (see examples.Example.RunTo), checking that it leaves nothing
// behind, and returns its output lines.
func Run(t *testing.T, seedOrName string) []string {
	t.Helper()
	mptest.CheckLeaks(t)
	sel, err := examples.Select(seedOrName)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sel[0].RunTo(ctx, &buf); err != nil {
		t.Fatalf("example %s: %v", seedOrName, err)
	}
	return strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
}

// Match checks that lines match the patterns one to one, in order. In a
// pattern, %P stands for this process's pid and %C for any number (a child's
// pid); everything else matches literally.
func Match(t *testing.T, lines []string, patterns ...string) {
	t.Helper()
	if len(lines) != len(patterns) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(patterns), strings.Join(lines, "\n"))
	}
	for i, p := range patterns {
		if !Pattern(p).MatchString(lines[i]) {
			t.Errorf("line %d = %q, want %q", i, lines[i], p)
		}
	}
}

// Pattern compiles a Match pattern.
func Pattern(p string) *regexp.Regexp {
	p = strings.ReplaceAll(regexp.QuoteMeta(p), "%P", strconv.Itoa(os.Getpid()))
	p = strings.ReplaceAll(p, "%C", `\d+`)
	return regexp.MustCompile("^" + p + "$")
}

// Contains checks that the output has each of wants somewhere.
func Contains(t *testing.T, lines []string, wants ...string) {
	t.Helper()
	joined := strings.Join(lines, "\n")
	for _, want := range wants {
		if !strings.Contains(joined, want) {
			t.Errorf("output lacks %q:\n%s", want, joined)
		}
	}
}
