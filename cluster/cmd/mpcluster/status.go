package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mpgo/mp/cluster"
	"github.com/nats-io/nats.go/jetstream"
)

// status connects to an engine and prints its state.
func status(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("status", stderr)
	url := fs.String("url", "", "the engine's `URL`")
	keyFile := fs.String("key-file", "", "`file` holding the key")
	ca := fs.String("tls-ca", "", "trust the engine's certificate from this CA, PEM `file`")
	cert := fs.String("tls-cert", "", "client certificate for mutual TLS, PEM `file`")
	key := fs.String("tls-key", "", "the client certificate's private key, PEM `file`")
	all := fs.Bool("all", false, "show every stream, not only mp's")
	if err := parse(fs, args, "url", "key-file"); err != nil {
		return err
	}
	if (*cert != "" || *key != "") && *ca == "" {
		fmt.Fprintln(stderr, "mpcluster status: -tls-cert and -tls-key need -tls-ca")
		return errUsage
	}
	o := &cluster.ConnectOptions{Name: "mpcluster status"}
	var err error
	if o.Key, err = cluster.ReadKey(*keyFile); err != nil {
		return err
	}
	if *ca != "" {
		if o.TLS, err = cluster.ClientTLS(*ca, *cert, *key); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := cluster.Connect(ctx, *url, o)
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := collect(ctx, c.JetStream(), *all)
	if err != nil {
		return err
	}
	nc := c.NATS()
	st.server = fmt.Sprintf("%s (nats-server %s) at %s", nc.ConnectedServerName(), nc.ConnectedServerVersion(), nc.ConnectedUrlRedacted())
	st.tls = nc.TLSRequired()
	return st.print(stdout)
}

// engineState is what status prints.
type engineState struct {
	server    string
	tls       bool
	account   *jetstream.AccountInfo
	streams   []*jetstream.StreamInfo
	consumers []*jetstream.ConsumerInfo
}

// collect reads the engine's JetStream state: mp's streams (all of them
// if all) and their consumers, sorted by name.
func collect(ctx context.Context, js jetstream.JetStream, all bool) (*engineState, error) {
	ai, err := js.AccountInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("JetStream account: %w", err)
	}
	st := &engineState{account: ai}
	lister := js.ListStreams(ctx)
	for si := range lister.Info() {
		if all || ofMP(si.Config.Name) {
			st.streams = append(st.streams, si)
		}
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	slices.SortFunc(st.streams, func(a, b *jetstream.StreamInfo) int { return strings.Compare(a.Config.Name, b.Config.Name) })
	for _, si := range st.streams {
		s, err := js.Stream(ctx, si.Config.Name)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", si.Config.Name, err)
		}
		cl := s.ListConsumers(ctx)
		var cis []*jetstream.ConsumerInfo
		for ci := range cl.Info() {
			cis = append(cis, ci)
		}
		if err := cl.Err(); err != nil {
			return nil, fmt.Errorf("consumers of %s: %w", si.Config.Name, err)
		}
		slices.SortFunc(cis, func(a, b *jetstream.ConsumerInfo) int { return strings.Compare(a.Name, b.Name) })
		st.consumers = append(st.consumers, cis...)
	}
	return st, nil
}

// ofMP reports whether a stream is one of mp's: its name, or its
// key-value bucket's, starts with MP (in any case).
func ofMP(name string) bool {
	name = strings.TrimPrefix(name, "KV_")
	return len(name) >= 2 && strings.EqualFold(name[:2], "mp")
}

// print writes st as aligned tables.
func (st *engineState) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	a := st.account
	fmt.Fprintf(tw, "server\t%s\n", st.server)
	fmt.Fprintf(tw, "tls\t%v\n", st.tls)
	fmt.Fprintf(tw, "jetstream\t%d streams, %d consumers, %d bytes stored, %d bytes in memory\n",
		a.Streams, a.Consumers, a.Store, a.Memory)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "STREAM\tMESSAGES\tBYTES\tFIRST\tLAST\tCONSUMERS\tSUBJECTS")
	for _, si := range st.streams {
		s := si.State
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", si.Config.Name, s.Msgs, s.Bytes, s.FirstSeq, s.LastSeq,
			s.Consumers, strings.Join(si.Config.Subjects, " "))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "STREAM\tCONSUMER\tPENDING\tACK-PENDING\tREDELIVERED\tWAITING")
	for _, ci := range st.consumers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", ci.Stream, ci.Name, ci.NumPending, ci.NumAckPending,
			ci.NumRedelivered, ci.NumWaiting)
	}
	if pools := st.pools(); len(pools) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "POOL\tQUEUED\tRUNNING\tREDELIVERED")
		for _, p := range pools {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", p.name, p.queued, p.running, p.redelivered)
		}
	}
	return tw.Flush()
}

// poolTasks is the prefix of a Pool's task stream, MPPOOL_<pool>: its
// workers' consumer holds the tasks queued (pending) and running (taken
// and not yet acknowledged).
const poolTasks = "MPPOOL_"

// poolState is the work of one pool.
type poolState struct {
	name                         string
	queued, running, redelivered uint64
}

// pools sums, per pool, the consumers of its task stream, by name.
func (st *engineState) pools() []poolState {
	var ps []poolState
	for _, ci := range st.consumers {
		name, ok := strings.CutPrefix(ci.Stream, poolTasks)
		if !ok {
			continue
		}
		if len(ps) == 0 || ps[len(ps)-1].name != name {
			ps = append(ps, poolState{name: name})
		}
		p := &ps[len(ps)-1]
		p.queued += ci.NumPending
		p.running += uint64(ci.NumAckPending)
		p.redelivered += uint64(ci.NumRedelivered)
	}
	return ps
}
