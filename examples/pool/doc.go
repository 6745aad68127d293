// Package pool ports the seed programs about mp.Pool: apply, map, imap,
// futures, callbacks, timeouts and a socket server served by pool workers.
package pool
