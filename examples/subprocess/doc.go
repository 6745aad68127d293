// Package subprocess ports the seed programs about running external
// programs: run, call, check_output, Popen with pipes, communicate, signals
// and pipelines.
package subprocess
