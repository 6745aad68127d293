package procinfo

import (
	"bytes"
	"errors"
)

// Describe returns the command name and state letter of process pid, from
// /proc/<pid>/stat, or an error matching ErrNoProcess if there is none.
func Describe(pid int) (Description, error) {
	data, err := stat(pid)
	if err != nil {
		return Description{}, err
	}
	return parseDescription(data)
}

// parseDescription parses "pid (comm) state …"; comm may hold spaces and
// parentheses, so it ends at the last ')'.
func parseDescription(data []byte) (Description, error) {
	open := bytes.IndexByte(data, '(')
	end := bytes.LastIndexByte(data, ')')
	if open < 0 || end < open || end+2 >= len(data) || data[end+1] != ' ' {
		return Description{}, errors.New("mp: malformed /proc stat line")
	}
	return Description{Name: string(data[open+1 : end]), Letter: data[end+2]}, nil
}
