package procinfo

// Description is how ps(1) shows a process in brief: its command name and
// its state letter. It is for people reading a report (of a leaked child,
// say); code that decides on a state uses Read.
type Description struct {
	// Name is the command name: on Linux the comm, which a process may
	// set (up to 15 bytes); on macOS and FreeBSD the name of the
	// executable the process runs (p_comm, ki_comm).
	Name string
	// Letter is the state as the system's ps shows it: R running, S
	// sleeping, T stopped, Z zombie, and the system's own others (D, I, …).
	Letter byte
}
