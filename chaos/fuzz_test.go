package chaos_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mpgo/mp/chaos"
)

func TestFuzzTargets(t *testing.T) {
	targets, err := chaos.FuzzTargets("..")
	if err != nil {
		t.Fatal(err)
	}
	want := chaos.FuzzTarget{Pkg: "./internal/wire", Name: "FuzzReadFrame"}
	if !slices.Contains(targets, want) {
		t.Fatalf("FuzzTargets(..) = %v, missing %v", targets, want)
	}
	for _, tg := range targets {
		if strings.HasPrefix(tg.Pkg, "./examples/progress") {
			t.Errorf("FuzzTargets(..) lists %v, of another module", tg)
		}
	}
}

func TestKeepCorpus(t *testing.T) {
	root, cache := t.TempDir(), t.TempDir()
	t.Setenv("GOCACHE", cache)
	write := func(path, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "go.mod"), "module example.com/m\n\ngo 1.26\n")
	write(filepath.Join(root, "p", "p.go"), "package p\n")
	entry := "go test fuzz v1\n[]byte(\"x\")\n"
	write(filepath.Join(cache, "fuzz", "example.com", "m", "p", "FuzzX", "0a1b"), entry)
	target := chaos.FuzzTarget{Pkg: "./p", Name: "FuzzX"}
	for _, want := range []int{1, 0} {
		n, err := chaos.KeepCorpus(context.Background(), root, target)
		if err != nil || n != want {
			t.Fatalf("KeepCorpus = %d, %v; want %d, nil", n, err, want)
		}
	}
	got, err := os.ReadFile(filepath.Join(root, "p", "testdata", "fuzz", "FuzzX", "0a1b"))
	if err != nil || string(got) != entry {
		t.Fatalf("testdata entry = %q, %v; want %q", got, err, entry)
	}
}
