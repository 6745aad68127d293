package transport

// recvCloexec is the recvmsg flag that makes received descriptors
// close-on-exec: macOS has none (addRights sets the flag after receipt).
const recvCloexec = 0
