package process

import (
	"bytes"
	"os"
	"strconv"
)

// gone reports whether process pid has ended (a zombie has).
func gone(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(data, ')')
	return i < 0 || bytes.HasPrefix(data[i+1:], []byte(" Z"))
}
