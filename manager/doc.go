// Package manager is mp's form of Python's multiprocessing managers: a
// server process holds shared objects — dicts, lists, namespaces, queues,
// locks, condition variables, events, barriers, values, arrays, and custom
// objects — and any process that knows its address and key works on them
// through typed proxies: a child, a pool worker, or a program on another
// machine.
//
//	m, err := manager.Start(ctx, nil)       // Python: Manager()
//	defer m.Close()
//	d, err := manager.NewDict[string, int](ctx, m, nil)
//	p := mp.Command(worker, d)              // the proxy travels to the child
//	...
//	n, err := d.Add(ctx, "count", -1)       // atomic in the server: no lock needed
//
// # Python to Go
//
//	Python                                        Go
//	Manager() / SyncManager().start()             Start(ctx, nil)
//	BaseManager(address, authkey).start()         Start(ctx, &Options{Address: "host:port", AuthKey: key})
//	BaseManager(address, authkey).connect()       Dial(ctx, address, &DialOptions{AuthKey: key})
//	get_server().serve_forever()                  NewServer(opts) + Server.Serve(ctx, Listen(address))
//	register(typeid, callable)                    Server.Register(name, obj) / Server.RegisterFactory / Options.Shared
//	register(...) then start()                    NewSetup at package level + Start(ctx, &Options{Setup: setup})
//	manager.get_task_queue()                      Lookup[Queue[int]](ctx, c, "get_task_queue")
//	manager.shutdown()                            Client.Shutdown(ctx)
//	m.dict(), m.list(), m.Namespace()             NewDict, NewList, NewNamespace
//	l.index(v), l.remove(v), l.sort(key=…)        List.Index, Remove, Sort, SortFunc
//	d.popitem(), d.setdefault(k, v)               Dict.PopItem, SetDefault
//	m.Queue(), m.JoinableQueue()                  NewQueue, NewJoinableQueue
//	m.Lock(), m.RLock()                           NewMutex, NewReentrantLock
//	m.Semaphore(), m.BoundedSemaphore()           NewSemaphore, NewBoundedSemaphore
//	m.Condition(), m.Event(), m.Barrier(n)        NewCond, NewEvent, NewBarrier
//	m.Value(typecode, v), m.Array(typecode, seq)  NewValue, NewArray
//	AutoProxy, proxy._callmethod(name, args)      Object, Object.Call, Invoke
//	AuthenticationError                           ErrAuthentication
//	EOFError / ConnectionError on a dead manager  ErrConnection
//
// Every method that talks to the server takes a context: its deadline plays
// Python's timeout= and travels with the call, so the server ends the wait
// itself; cancelling it asks the server to abandon the call. A blocking
// call that ends this way returns an error matching the local types'
// sentinel and the context's error (a Queue.Get: mp.ErrEmpty and
// context.DeadlineExceeded). If the server had already completed the call
// when the cancellation reached it, the call returns its result: an item
// taken from a queue at the last moment is not lost.
//
// # Addresses and keys
//
// A server listens on a Unix socket (by default a Linux abstract socket,
// which leaves no file behind) or on TCP host:port (port 0 picks one; Addr
// reports it). Every connection starts with a mutual challenge: each side
// sends a random 32-byte nonce and the other answers with an HMAC-SHA256 of
// it under the shared key, compared in constant time, all under a deadline.
// The key never crosses the wire. A wrong key gives ErrAuthentication on
// the client and a log record on the server (ServerOptions.Logger,
// Options.Logger), which goes on serving others. An empty key counts as
// none. By default both sides use this process's key,
// mp.Current().AuthKey, which children inherit; a server with that default
// key refuses to listen on a non-loopback address (ErrInsecure): choose a
// key for servers other machines reach. TLS (ServerOptions.TLS,
// DialOptions.TLS) can wrap the whole exchange; Python has no such option.
//
// # Proxies
//
// Proxies are handles: a proxy placed in a Process argument, a pool task,
// an mp queue item, a Conn message, or a value stored in a manager
// container reaches the other side as a working proxy. It travels as the
// server's address and id and the object's id, never with a key or a
// descriptor; the receiving process connects on first use, reusing a
// connection it has to the same server, else dialling the address with the
// key it used for that address before, else with its own key (inherited
// from the parent). Proxies bound for one server wait for one connection
// attempt, each at most as long as its context; a server slow to answer
// holds up no proxy of another. A child of a server made with its own key
// should Dial that server with the key before it uses proxies it received.
//
// A typed proxy's object knows its item types: a Lookup, or a proxy
// received from another process, with other types fails with ErrWrongType
// before anything is taken out of the object.
//
// Any number of goroutines may share a proxy or a Client: calls on one
// connection are multiplexed, each waiting only for its own reply, and a
// call blocked in the server (a Get on an empty queue, a Lock) does not
// hold up the others.
//
// Objects are reference counted as in Python: every proxy in use holds a
// reference, counted on its connection; a container holding a proxy (a
// dict of lists) holds one too. Close drops a proxy's reference, and a
// connection that ends — its process exited or died — drops all of its
// own. An object nobody refers to is freed after Limits.ReleaseDelay, which
// gives a proxy on its way to another process time to arrive.
//
// # Ordering and failures
//
// Calls that cannot block run in the server in the order they arrive on a
// connection; a call returns once the server has applied it, so a change
// made by one process is seen by every call any process starts after that
// call returned. Blocking calls run concurrently with later calls.
//
// A lock (Mutex, ReentrantLock, and a Cond's lock) belongs to the
// connection that took it. When that connection ends while holding it, the
// server releases it, and the next Lock returns holding it with an error
// matching mp.ErrOwnerDead (Python's stays locked forever). Semaphore
// units have no owner and are not returned. When the server dies or shuts
// down, every call blocked in it and every later call returns an error
// matching ErrConnection at once.
//
// The server reads at most Limits.FrameCap bytes per request, decodes them
// under mp's codec limits, waits at most Limits.IOTimeout for the rest of a
// request once it has begun, serves at most Limits.MaxConns authenticated
// connections and Limits.MaxPending blocking calls per connection; a client
// that breaks these rules is disconnected, and other clients see nothing of
// it. Connections that have not authenticated yet have a budget of their
// own, Limits.MaxHandshakes, and 5 s: a flood of them, however fast, takes
// no place a client with the key needs, and such a client connects while
// it lasts.
//
// # Cost
//
// A call is one round trip: about 10 µs between two processes on the
// machine mp is measured on (about 4 times faster than CPython's manager),
// of which the two socket wake-ups are most; both sides poll their socket
// for a few tens of microseconds before they park, which halves the round
// trip of calls made one after another. Calls from many goroutines share
// the connection and overlap; Dict.Update, List.Extend and the bulk getters
// do many things in one round trip. For data that only processes of one
// machine share, mp's own queues, locks and shared memory cost far less.
package manager
