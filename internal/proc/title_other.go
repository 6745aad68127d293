//go:build !linux

package proc

// setComm does nothing here. A process's comm (p_comm: what ps -c, top
// and pgrep show) is set by the kernel at exec from the binary's name, and
// neither macOS nor FreeBSD lets a process change it: macOS's
// pthread_setname_np names only the calling thread, for debuggers, and
// FreeBSD's setproctitle(3) rewrites the command line (sysctl
// kern.proc.args), which a child's title already sets at exec, not the
// comm. A child there shows as the program's name with its title as its
// command line.
func setComm(string, bool) {}
