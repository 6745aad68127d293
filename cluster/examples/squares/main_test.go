package main

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp/cluster"
)

// TestMain is cluster.Main first, as the program's main is: run starts
// workers as runs of this binary with cluster.EnvJoin set.
func TestMain(m *testing.M) {
	cluster.Main()
	os.Exit(m.Run())
}

func TestSquaresOnOneMachine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out strings.Builder
	if err := run(ctx, &out, "", "", "", "", "", 200); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "sum of the squares of 1..200: 2686700 (") {
		t.Errorf("output:\n%s", out.String())
	}
	ran := 0
	for _, m := range regexp.MustCompile(`(?m)^  worker \S+ ran (\d+)$`).FindAllStringSubmatch(out.String(), -1) {
		k, _ := strconv.Atoi(m[1])
		ran += k
	}
	if ran != 200 {
		t.Errorf("workers ran %d tasks, want 200:\n%s", ran, out.String())
	}
}
