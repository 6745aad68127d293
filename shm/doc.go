// Package shm shares memory between processes: typed values and arrays that
// live in shared memory (Python: multiprocessing.Value, Array, RawValue,
// RawArray) and named segments of raw bytes (Python:
// multiprocessing.shared_memory.SharedMemory).
//
// Value[T] and Array[T] hold elements of a fixed-size type without pointers:
// integers, floats, complex numbers, bools, and arrays and structs made of
// them. Other types are refused with an error that matches
// ErrUnsupportedType. They are handles: placed in an mp.Process's argument
// (or a message), they reach the other process as a working Value or Array
// over the same memory — nothing is copied, ever: Ptr and Slice point into
// the shared pages.
//
// NewValue and NewArray come with a lock (an mp.Mutex, which survives a
// holder's death): hold it around any access that must not interleave with
// another process's. NewRawValue and NewRawArray have none; synchronize them
// some other way, or use atomic operations through Ptr for single words.
//
// Segment is named shared memory that unrelated processes open by name. The
// creator's segment is removed when the creator ends, even if it crashes,
// unless it calls Keep.
package shm
