// Package sync ports the seed programs about synchronization between
// processes: mp.Mutex, mp.Semaphore, mp.Event, mp.Cond and mp.Barrier.
package sync
