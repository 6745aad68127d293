package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

// makeFiles writes n small files under a new directory and returns it.
func makeFiles(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		sub := filepath.Join(dir, fmt.Sprint(i%3))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%d", i)), []byte(strings.Repeat("x", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRun(t *testing.T) {
	const n = 300
	for _, all := range []bool{false, true} {
		t.Run(fmt.Sprint("all=", all), func(t *testing.T) {
			mptest.CheckLeaks(t)
			var out, bar bytes.Buffer
			dir := makeFiles(t, n)
			done, err := run(context.Background(), &out, &bar, dir, all)
			if err != nil {
				t.Fatal(err)
			}
			if done != n {
				t.Errorf("the bar reached %d, want %d", done, n)
			}
			if lines := strings.Count(out.String(), "\n"); lines != n {
				t.Errorf("%d lines of hashes, want %d", lines, n)
			}
			// sha256 of "xx", the content of f2.
			sum := sha256.Sum256([]byte("xx"))
			if want := hex.EncodeToString(sum[:]) + "  " + filepath.Join(dir, "2", "f2"); !strings.Contains(out.String(), want) {
				t.Errorf("no hash of f2 in:\n%s", out.String())
			}
			if !strings.Contains(bar.String(), "100% |") || !strings.Contains(bar.String(), fmt.Sprintf("(%d/%d", n, n)) {
				t.Errorf("the bar did not end full: %q", tail(bar.String()))
			}
		})
	}
}

// A file that cannot be read is reported alone; the bar still goes to
// the end. With -all, the first error fails the whole run.
func TestRunReportsFailures(t *testing.T) {
	mptest.CheckLeaks(t)
	dir := makeFiles(t, 20)
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	var out, bar bytes.Buffer
	done, err := run(context.Background(), &out, &bar, dir, false)
	if err == nil || !strings.Contains(err.Error(), "1 of 21 files") {
		t.Errorf("run = %v, want one failure of 21", err)
	}
	if done != 21 {
		t.Errorf("the bar reached %d, want 21", done)
	}
	if !strings.Contains(out.String(), "dangling: ") || strings.Count(out.String(), "\n") != 21 {
		t.Errorf("output:\n%s", out.String())
	}
	if _, err := run(context.Background(), &out, &bar, dir, true); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("run -all = %v, want the dangling link's error", err)
	}
}

func tail(s string) string { return s[max(0, len(s)-200):] }
