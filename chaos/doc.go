// Package chaos attacks mp the way its users' worst day would, with real
// processes and real signals, and counts what survives: pool workers
// SIGKILLed under load, a parent SIGKILLed under its pool, processes and
// manager, tens of thousands of objects made and closed, queue consumers
// and lock holders SIGKILLed, hostile bytes and connection floods against
// a manager over TCP, and shell scripts whose descendants try to outlive a
// subprocess timeout.
//
// Each experiment is a function of a context and a Config that returns a
// Row: counts that must have a given value (nothing lost, run twice, wrong,
// leaked or left alive; ErrOwnerDead once per kill), counts that are only
// reported, and figures (latencies, memory) that are printed and never
// checked, since they depend on the machine; a figure past the goal stated
// for it is flagged, in a build without the race detector (the goals are
// written for one: the detector slows every figure several times). The
// experiments use mp's public API only, so that their figures follow the
// library as it changes.
//
// The short mode runs each experiment small, in about thirty seconds in
// all with the race detector on a machine of two cores; continuous
// integration runs it:
//
//	MP_CHAOS=short go test -race -count=1 -v -run TestChaos ./chaos/
//
// Plain go test skips TestChaos. The long mode runs the sizes quoted in
// the experiments' documentation, and may also run every fuzz target of
// the module:
//
//	go run ./chaos/cmd/chaos -mode long -runs 3 -fuzztime 1m
//
// The experiments start children that run this package's registered
// functions, so a program that calls them calls mp.Main first (a test,
// mptest.Main in its TestMain). They look at this process's children and
// descriptors, and must not run beside other work in the same process.
// They run on Linux, macOS and FreeBSD; outside Linux, where no process
// tells another its resident set or its shared mappings, the memory
// figures are missing (-1) and Cycles does not count shared mappings or
// /dev/shm entries (its descriptor count still sees what is left open).
package chaos
