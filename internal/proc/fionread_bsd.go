//go:build darwin || freebsd

package proc

// fionread is the ioctl that tells how many bytes a pipe holds: FIONREAD
// of <sys/filio.h>, _IOR('f', 127, int), the same on macOS and FreeBSD,
// which x/sys does not name there.
const fionread = 0x4004667f
