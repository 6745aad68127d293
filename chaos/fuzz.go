package chaos

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// FuzzTarget is one fuzz test of the module.
type FuzzTarget struct {
	Pkg  string // the package's directory, relative to the module root: "./internal/wire"
	Name string // "FuzzReadFrame"
}

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w*)\(\w+ \*testing\.F\)`)

// FuzzTargets lists the fuzz tests in the _test.go files under root, the
// module's root directory (nested modules excluded).
func FuzzTargets(root string) ([]FuzzTarget, error) {
	var out []FuzzTarget
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || exists(filepath.Join(path, "go.mod"))) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		for _, m := range fuzzFunc.FindAllSubmatch(b, -1) {
			out = append(out, FuzzTarget{Pkg: "./" + filepath.ToSlash(rel), Name: string(m[1])})
		}
		return nil
	})
	return out, err
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Fuzz runs one fuzz target for d with the go command, in root, and
// returns its row: the executions, and whether it found a failing input
// (which the go command keeps in the package's testdata/fuzz).
func Fuzz(ctx context.Context, root string, t FuzzTarget, d time.Duration) (r Row) {
	r.Name = "fuzz " + strings.TrimPrefix(t.Pkg, "./") + "." + t.Name
	start := time.Now()
	// Minimizing a failing input is bounded, as the default minute looks
	// like a hang for a target that reads the heap's statistics (which
	// stops the world) at every run.
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-fuzz", "^"+t.Name+"$",
		"-fuzztime", d.String(), "-fuzzminimizetime", "10s", t.Pkg)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	r.Elapsed = time.Since(start)
	execs, found := parseFuzzOutput(out)
	r.count("execs", execs)
	failed := 0
	if err != nil {
		failed = 1
		if found == "" {
			found = lastLines(out, 5)
		}
		r.fail("%s", found)
	}
	r.expect("failures", failed, 0)
	if execs > 0 {
		r.figure("execsPerSec", "%.0f", float64(execs)/d.Seconds())
	}
	return r
}

var (
	fuzzExecs   = regexp.MustCompile(`execs: (\d+)`)
	fuzzFailing = regexp.MustCompile(`Failing input written to (\S+)`)
)

// parseFuzzOutput returns the last execution count the go command printed
// and, if it found a failing input, where it wrote it.
func parseFuzzOutput(out []byte) (execs int, found string) {
	for _, m := range fuzzExecs.FindAllSubmatch(out, -1) {
		execs, _ = strconv.Atoi(string(m[1]))
	}
	if m := fuzzFailing.FindSubmatch(out); m != nil {
		found = fmt.Sprintf("failing input in %s", m[1])
	}
	return execs, found
}

func lastLines(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte(" | ")))
}

// KeepCorpus copies the inputs the go command found interesting while
// fuzzing t, which it keeps in its cache, to the package's
// testdata/fuzz/<Name>, where plain go test runs them as seeds and where
// they can be committed. It returns how many files it added.
func KeepCorpus(ctx context.Context, root string, t FuzzTarget) (int, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOCACHE").Output()
	if err != nil {
		return 0, err
	}
	cache := strings.TrimSpace(string(out))
	list := exec.CommandContext(ctx, "go", "list", "-f", "{{.ImportPath}}", t.Pkg)
	list.Dir = root
	if out, err = list.Output(); err != nil {
		return 0, err
	}
	from := filepath.Join(cache, "fuzz", strings.TrimSpace(string(out)), t.Name)
	to := filepath.Join(root, filepath.FromSlash(t.Pkg), "testdata", "fuzz", t.Name)
	entries, err := os.ReadDir(from)
	if err != nil {
		return 0, err
	}
	added := 0
	for _, e := range entries {
		if e.IsDir() || exists(filepath.Join(to, e.Name())) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			return added, err
		}
		if err := os.MkdirAll(to, 0o755); err != nil {
			return added, err
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			return added, err
		}
		added++
	}
	return added, nil
}
