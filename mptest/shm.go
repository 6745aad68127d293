package mptest

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mpgo/mp/shm"
)

// ownShm returns the new /dev/shm entries among names that belong to this
// test. /dev/shm is shared by every program on the machine, and go test
// runs the test binaries of several packages at once, so an entry counts
// only if this process created it with mp's shm package and has not removed
// it, or if it is held (mapped or open) by this process or its children and
// by no other process — a segment the test, or a child, created some other
// way and did not close.
func ownShm(names []string) []string {
	var out, others []string
	mine := shm.Created()
	for _, name := range names {
		if slices.Contains(mine, name) {
			out = append(out, name)
		} else {
			others = append(others, name)
		}
	}
	if len(others) == 0 {
		return out
	}
	inTree, outside := holders(others, processTree(os.Getpid()))
	for _, name := range others {
		if inTree[name] && !outside[name] {
			out = append(out, name)
		}
	}
	return out
}

// holders reports which of names are mapped or held open by a process in
// tree, and which by a process outside it.
func holders(names []string, tree map[int]bool) (inTree, outside map[string]bool) {
	inTree, outside = map[string]bool{}, map[string]bool{}
	paths := map[string]string{}
	for _, n := range names {
		paths["/dev/shm/"+n] = n
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		for _, path := range heldPaths(d) {
			if n, ok := paths[path]; ok {
				if tree[pid] {
					inTree[n] = true
				} else {
					outside[n] = true
				}
			}
		}
	}
	return inTree, outside
}

// heldPaths lists the /dev/shm files that the process whose /proc directory
// is dir maps or has open.
func heldPaths(dir string) []string {
	var out []string
	if data, err := os.ReadFile(dir + "/maps"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSuffix(line, " (deleted)")
			if i := strings.Index(line, " /dev/shm/"); i >= 0 {
				out = append(out, line[i+1:])
			}
		}
	}
	ents, _ := os.ReadDir(dir + "/fd")
	for _, e := range ents {
		if target, err := os.Readlink(dir + "/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "/dev/shm/") {
			out = append(out, target)
		}
	}
	return out
}

// processTree returns root and its descendants, from /proc.
func processTree(root int) map[int]bool {
	parent := map[int]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		data, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		end := bytes.LastIndexByte(data, ')')
		f := strings.Fields(string(data[end+1:]))
		if end < 0 || len(f) < 2 {
			continue
		}
		pid, err1 := strconv.Atoi(filepath.Base(filepath.Dir(st)))
		ppid, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil {
			parent[pid] = ppid
		}
	}
	tree := map[int]bool{root: true}
	for grew := true; grew; {
		grew = false
		for pid, ppid := range parent {
			if tree[ppid] && !tree[pid] {
				tree[pid], grew = true, true
			}
		}
	}
	return tree
}
