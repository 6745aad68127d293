package procinfo

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// Available reports whether this system can answer Read: on Linux, whether
// /proc is mounted (a sandbox may lack it).
var Available = func() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}()

// Read returns what the system says of process pid, or an error matching
// ErrNoProcess if there is none. Another error (this process out of
// descriptors, say) says nothing about pid.
func Read(pid int) (Info, error) {
	data, err := stat(pid)
	if err != nil {
		return Info{}, err
	}
	return parseStat(data)
}

// stat returns process pid's /proc/<pid>/stat line, or an error matching
// ErrNoProcess if there is no such process.
func stat(pid int) ([]byte, error) {
	if pid <= 0 {
		return nil, ErrNoProcess
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return nil, ErrNoProcess
	}
	if err != nil {
		return nil, fmt.Errorf("mp: read the state of process %d: %w", pid, err)
	}
	return data, nil
}

// parseStat parses a /proc/<pid>/stat line: pid (comm) state ppid pgrp …
// starttime is field 22. comm may hold spaces and parentheses, so fields
// are counted from the last ')'.
func parseStat(data []byte) (Info, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return Info{}, errors.New("mp: malformed /proc stat line")
	}
	f := bytes.Fields(data[end+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return Info{}, errors.New("mp: malformed /proc stat line")
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	pgrp, err2 := strconv.Atoi(string(f[2]))
	start, err3 := strconv.ParseUint(string(f[19]), 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return Info{}, fmt.Errorf("mp: malformed /proc stat line: %w", err)
	}
	info := Info{State: Running, Parent: ppid, Group: pgrp, Start: start}
	switch f[0][0] {
	case 'Z', 'X', 'x':
		// X is a process being torn down after its status was collected:
		// for mp's purposes as dead as a zombie.
		info.State = Zombie
	case 'T', 't':
		info.State = Stopped
	}
	return info, nil
}

// List returns the pids of every process on the system.
func List() ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("mp: list processes: %w", err)
	}
	pids := make([]int, 0, len(ents))
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
