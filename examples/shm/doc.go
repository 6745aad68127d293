// Package shm ports the seed programs about shared memory: shm.Value and
// shm.Array changed by a child process.
package shm
