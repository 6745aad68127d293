package process

import "github.com/mpgo/mp/internal/procinfo"

// gone reports whether process pid has ended (a zombie has).
func gone(pid int) bool {
	info, err := procinfo.Read(pid)
	return err != nil || !info.Alive()
}
