// Package queue ports the seed programs about queues between processes:
// mp.Queue, mp.JoinableQueue, producers and consumers, LIFO and priority
// queues.
package queue
