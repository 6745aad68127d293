// Package process ports the seed programs about mp.Process: starting
// children, their pids, daemons, start methods, and output from many
// processes at once.
package process
