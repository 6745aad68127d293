// Command ratios prints CPython's and mp's benchmark figures side by side.
// Its arguments are two files of `name value unit` lines: CPython's first,
// then mp's. For a time (ms, us, ns/op) the ratio is CPython ÷ mp; for a rate
// (…/s) it is mp ÷ CPython; above 1 means mp is faster.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

type figure struct {
	value float64
	unit  string
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: ratios CPYTHON_FILE MP_FILE")
		os.Exit(2)
	}
	py, err := read(os.Args[1])
	check(err)
	gof, names, err := readOrdered(os.Args[2])
	check(err)
	fmt.Printf("%-34s %14s %14s %10s\n", "figure", "CPython", "mp", "ratio")
	for _, name := range names {
		g := gof[name]
		p, ok := py[name]
		if !ok {
			fmt.Printf("%-34s %14s %14s %10s\n", name, "-", format(g), "-")
			continue
		}
		fmt.Printf("%-34s %14s %14s %9.1fx\n", name, format(p), format(g), ratio(p, g))
	}
}

func ratio(py, mp figure) float64 {
	if strings.HasSuffix(mp.unit, "/s") {
		return mp.value / py.value
	}
	return py.value / mp.value
}

func format(f figure) string { return strconv.FormatFloat(f.value, 'g', 4, 64) + " " + f.unit }

func read(path string) (map[string]figure, error) {
	m, _, err := readOrdered(path)
	return m, err
}

func readOrdered(path string) (map[string]figure, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	m := map[string]figure{}
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		v, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			continue
		}
		if _, dup := m[fields[0]]; !dup {
			names = append(names, fields[0])
		}
		m[fields[0]] = figure{v, fields[2]}
	}
	return m, names, sc.Err()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
}
