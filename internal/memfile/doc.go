// Package memfile makes anonymous shared files: memory with no name that
// processes share by passing its descriptor, and that a receiver checks
// before it trusts it.
//
// On Linux it is a memfd, sealed. Each seal protects the other holders
// from one thing a holder could do:
//
//   - F_SEAL_SHRINK and F_SEAL_GROW: no holder can change the size. A file
//     shrunk under a mapping makes every other process's access past the
//     new end fault with SIGBUS, which kills a Go program.
//   - F_SEAL_WRITE, on one-shot contents (a large message, a large queue
//     item): the sender cannot change the bytes after it sent them, while
//     the receiver reads them.
//   - F_SEAL_SEAL: nobody can lift or add seals later.
//   - F_GET_SEALS on receipt: the receiver refuses any descriptor that is
//     not such memory (a pipe that would block a read, a file on a slow or
//     hostile mount, a memfd a peer may still resize).
//
// The portable set (macOS, FreeBSD, and Linux with the mpportable tag) has
// no seals. A file is created with O_EXCL under a random name in /dev/shm
// where that directory exists (memory-backed), else in os.TempDir(), and
// unlinked at once. It keeps what it can of the above:
//
//   - On receipt, Check accepts only a regular file that has no name left
//     (st_nlink 0, as every file made here has), and reports its size from
//     fstat; a pipe, socket, device or named file is refused.
//   - One-shot contents are read with pread into private memory (Read),
//     never mapped: a sender that shrinks or rewrites the file can only make
//     the read come short (refused) or see other bytes, which it could have
//     sent anyway; the receiver cannot fault, and what it decodes does not
//     change under it.
//   - Shared regions (queues, locks, Value and Array) must be mapped. There,
//     a holder that truncates the file makes the others fault: on the
//     portable set every process that holds a region is trusted not to
//     resize it. mp never does.
//
// Between the open that creates a portable file and its unlink the file has
// a name: a process killed right there leaves it behind. Its name starts
// with ScratchPrefix and the creator's process id, so that leak checks can
// recognise it, and the first Create of every process removes such names
// whose creator no longer runs.
package memfile
