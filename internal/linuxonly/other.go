//go:build !linux

package linuxonly

// The build stops here on purpose: the name below is the message.
var _ = mp_runs_on_linux_only_it_needs_futex_memfd_pidfd_eventfd_and_seqpacket
