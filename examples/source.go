package examples

import (
	"embed"
	"fmt"
	"io"
	"io/fs"
	"path"
	"reflect"
	"runtime"
	"strings"
)

// seeds holds the Python originals, one file per seed program, named
// "NN-what-it-shows.py".
//
//go:embed seeds/*.py
var seeds embed.FS

// Source returns the Go file that holds the example's Run function, as a
// path from the repository's root ("examples/queue/many.go",
// "cluster/examples/tasks.go"), or the file's name alone for an example
// defined elsewhere.
func (e Example) Source() string {
	fn := runtime.FuncForPC(reflect.ValueOf(e.Run).Pointer())
	if fn == nil {
		return ""
	}
	file, _ := fn.FileLine(fn.Entry())
	// The path is the build machine's, or the module's with -trimpath.
	if i := strings.LastIndex(file, "/examples/"); i >= 0 {
		if j := i - len("/cluster"); j >= 0 && file[j:i] == "/cluster" { // the cluster module's
			i = j
		}
		return file[i+1:]
	}
	return path.Base(file)
}

// Originals returns the paths from the repository's root of the Python
// programs the example ports: its seed's and those in Also.
func (e Example) Originals() []string {
	var out []string
	for _, n := range append([]int{e.Seed}, e.Also...) {
		if n == 0 {
			continue
		}
		if m, _ := fs.Glob(seeds, fmt.Sprintf("seeds/%02d-*.py", n)); len(m) == 1 {
			out = append(out, "examples/"+m[0])
		}
	}
	return out
}

// Original returns the text of the Python program of seed n, or an error
// if there is none.
func Original(n int) ([]byte, error) {
	m, _ := fs.Glob(seeds, fmt.Sprintf("seeds/%02d-*.py", n))
	if len(m) != 1 {
		return nil, fmt.Errorf("examples: no seed program %d", n)
	}
	return seeds.ReadFile(m[0])
}

// Note prints a line that says where the port differs from its Python
// original, and why: "note: " and the formatted text.
func Note(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "note: "+format+"\n", args...)
}
