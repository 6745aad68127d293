package descr

// recvCloexec is the recvmsg flag that makes received descriptors
// close-on-exec: macOS has none, so a receiver marks them just after
// receipt. The window is not closed against a fork+exec that does not hold
// syscall.ForkLock (one from C): such a child could inherit them.
const recvCloexec = 0
