//go:build darwin || (freebsd && (amd64 || arm64))

package procinfo

// stateLetter turns a process state of <sys/proc.h> (p_stat, ki_stat)
// into a letter as ps(1) shows it. ps also tells a long sleep (I) from a
// short one (S), which the state alone does not; S stands for both.
func stateLetter(stat int) byte {
	switch stat {
	case 1: // SIDL: being created
		return 'N'
	case 2: // SRUN
		return 'R'
	case 3: // SSLEEP
		return 'S'
	case sStop:
		return 'T'
	case sZomb:
		return 'Z'
	case 6: // SWAIT (FreeBSD): waiting for an interrupt
		return 'W'
	case 7: // SLOCK (FreeBSD): blocked on a lock
		return 'L'
	}
	return '?'
}
