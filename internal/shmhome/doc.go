// Package shmhome says where named shared memory segments (package shm)
// live: the directory whose files are the segments, so that unrelated
// processes find a segment by its name, as Python's SharedMemory does with
// shm_open.
//
// On Linux it is /dev/shm, where glibc's shm_open puts them too. macOS and
// FreeBSD have no such directory, and shm_open needs libc (and on macOS
// limits names to 31 bytes, PSHMNAMLEN); the portable set uses plain files
// instead, in a directory of this user's under os.TempDir(), mode 0700, so
// names are as long as file names (255 bytes) and no other user can open a
// segment. Linux with the mpportable tag uses it too, so that it is tested.
//
// What differs there: the files are on whatever file system holds
// os.TempDir() (on disk, unless it is a tmpfs), so the kernel may write a
// segment's pages back to disk; and processes find each other's segments
// only if they see the same TMPDIR (on macOS it is per user, set by
// launchd; a process run under sudo sees another).
package shmhome
