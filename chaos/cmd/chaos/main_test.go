package main

import (
	"context"
	"strings"
	"testing"

	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

func TestRunOne(t *testing.T) {
	mptest.CheckLeaks(t)
	var out, errs strings.Builder
	if err := Run(context.Background(), []string{"-only", "parent-kill"}, &out, &errs); err != nil {
		t.Fatalf("Run: %v\n%s%s", err, out.String(), errs.String())
	}
	for line := range strings.Lines(out.String()) {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "parent-kill" && f[1] == "pass" {
			return
		}
	}
	t.Fatalf("no passing parent-kill row in:\n%s", out.String())
}

func TestRunBadArgs(t *testing.T) {
	for _, args := range [][]string{{"-mode", "medium"}, {"-only", "nosuch"}} {
		var out, errs strings.Builder
		if err := Run(context.Background(), args, &out, &errs); err == nil {
			t.Errorf("Run(%q) = nil, want an error", args)
		}
	}
}
