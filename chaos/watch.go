package chaos

// A watch (per system) holds on to a set of processes so as to learn when
// each ends and to kill those left, without being fooled by a pid reused
// meanwhile: pidfds on Linux, a kqueue's EVFILT_PROC on macOS and FreeBSD.
//
//	watchProcesses(pids) *watch  // the processes of pids that still exist
//	(*watch).count() int         // how many it holds
//	(*watch).waitGone(ctx) int   // waits until all have ended (a zombie
//	                             // has) or ctx ends; how many still run
//	(*watch).kill()              // SIGKILLs each
//	(*watch).close()
