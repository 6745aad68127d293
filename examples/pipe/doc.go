// Package pipe ports the seed programs about mp.Pipe: messages between a
// parent and its children, between two children, end markers and io.EOF.
package pipe
