// Command presence is the service the tour (docs/tour.md) builds: who is
// online, on every node of a cluster. Each node keeps the presence table, a
// cets table replicated to every node; a discovery process finds the other
// nodes (a static list, or the DNS records of a Kubernetes headless service)
// and joins the tables; an HTTP endpoint sets and reads presence.
//
//	go run ./examples/presence -demo            # three nodes in this process, then exit
//	go run ./examples/presence -name gotp@10.0.0.5 -dns presence-headless.default.svc.cluster.local
//
// In Kubernetes (examples/presence/k8s) each pod of a StatefulSet runs it
// with its pod IP as its node name, and the headless service's name as -dns.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/cets/discovery"
	"github.com/gotp-dev/gotp/clusterlock"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/supervisor"
)

// The ports and names the Kubernetes manifests agree with (k8s_test.go
// checks that they do).
const (
	distPort    = 7000 // gotp distribution
	httpPort    = 8080 // the presence API
	namePrefix  = "gotp"
	tableName   = "presence"
	cookieEnv   = "GOTP_COOKIE"
	podIPEnv    = "POD_IP"
	dnsEnv      = "GOTP_DISCOVERY_DNS"
	defaultName = namePrefix + "@127.0.0.1"
)

// Presence says that a user is online, and where.
type Presence struct {
	User  string    `json:"user"`
	Node  string    `json:"node"`
	Since time.Time `json:"since"`
}

// service is one node of the presence service.
type service struct {
	node  *actor.Node
	r     *remote.Remote
	sup   actor.PID
	table *cets.Table[string, Presence]
	disco *discovery.Discovery
}

// options are what start needs; flags and the environment fill them.
type options struct {
	name, listen, cookie, dns string
	peers                     []remote.NodeSpec // a static node list instead of DNS
}

// start starts a node, its distribution layer, and under one supervisor the
// cluster lock, the presence table and discovery.
func start(opts options) (*service, error) {
	node, err := actor.NewNode(actor.Config{Name: opts.name})
	if err != nil {
		return nil, err
	}
	r, err := remote.Start(node, remote.Config{Cookie: opts.cookie, Listen: []string{opts.listen}})
	if err != nil {
		_ = node.Stop(context.Background())
		return nil, err
	}
	var backend discovery.Backend = &discovery.StaticBackend{Nodes: opts.peers}
	if opts.dns != "" {
		backend = &discovery.DNSBackend{Name: opts.dns, Port: distPort, NamePrefix: namePrefix}
	}
	tableSpec, table, err := cets.ChildSpec(node, tableName, cets.Options[string, Presence]{
		Key: func(p Presence) string { return p.User },
		// Two nodes that both saw a user come online keep the later one.
		HandleConflict: func(a, b Presence) Presence {
			if b.Since.After(a.Since) || (b.Since.Equal(a.Since) && b.Node > a.Node) {
				return b
			}
			return a
		},
	})
	if err != nil {
		return nil, err
	}
	discoSpec, disco, err := discovery.ChildSpec("discovery", node, discovery.Config{
		Backend: backend, Tables: []string{tableName}, Network: discovery.RemoteNetwork(r),
		RetryInitial: time.Second,
	})
	if err != nil {
		return nil, err
	}
	// rest_for_one: discovery restarts after the table it joins.
	sup, err := supervisor.Start(node, supervisor.Spec{Strategy: supervisor.RestForOne, Children: []supervisor.ChildSpec{
		clusterlock.ChildSpec("lock", clusterlock.Config{}), tableSpec, discoSpec,
	}}, actor.WithName("presence_sup"))
	if err != nil {
		r.Stop()
		_ = node.Stop(context.Background())
		return nil, err
	}
	return &service{node: node, r: r, sup: sup, table: table, disco: disco}, nil
}

func (s *service) stop() {
	s.r.Stop()
	_ = s.node.Stop(context.Background())
}

// handler is the HTTP API: PUT /online/{user}, DELETE /online/{user}, GET /online.
func (s *service) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /online/{user}", func(w http.ResponseWriter, req *http.Request) {
		p := Presence{User: req.PathValue("user"), Node: s.node.Name(), Since: time.Now().UTC()}
		if err := s.table.Insert(req.Context(), p); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /online/{user}", func(w http.ResponseWriter, req *http.Request) {
		if err := s.table.Delete(req.Context(), req.PathValue("user")); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /online", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.table.All()) // a local read
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		if err := s.disco.WaitForReady(ctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}

func main() {
	demo := flag.Bool("demo", false, "run three nodes in this process over loopback, show presence replicated, and exit")
	name := flag.String("name", "", "node name (default: "+namePrefix+"@$"+podIPEnv+", or "+defaultName+")")
	listen := flag.String("listen", ":"+strconv.Itoa(distPort), "distribution address")
	httpAddr := flag.String("http", ":"+strconv.Itoa(httpPort), "HTTP API address")
	dns := flag.String("dns", os.Getenv(dnsEnv), "DNS name of the headless service whose addresses are the nodes")
	peers := flag.String("peers", "", "comma-separated nodes (name=host:port), instead of -dns")
	flag.Parse()
	if *demo {
		if err := runDemo(); err != nil {
			fmt.Fprintln(os.Stderr, "presence:", err)
			os.Exit(1)
		}
		return
	}
	if *name == "" {
		*name = defaultName
		if ip := os.Getenv(podIPEnv); ip != "" {
			*name = namePrefix + "@" + ip
		}
	}
	cookie := os.Getenv(cookieEnv)
	if cookie == "" {
		fmt.Fprintln(os.Stderr, "presence: set "+cookieEnv)
		os.Exit(2)
	}
	opts := options{name: *name, listen: *listen, cookie: cookie, dns: *dns}
	if *peers != "" {
		for _, p := range strings.Split(*peers, ",") {
			// name=host:port, or a name that remote resolves.
			name, addr, _ := strings.Cut(p, "=")
			spec := remote.NodeSpec{Name: name}
			if addr != "" {
				spec.Addrs = []string{addr}
			}
			opts.peers = append(opts.peers, spec)
		}
	}
	s, err := start(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "presence:", err)
		os.Exit(1)
	}
	defer s.stop()
	srv := &http.Server{Addr: *httpAddr, Handler: s.handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("http", "err", err)
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

// runDemo runs three nodes on loopback whose discovery lists them all (a
// static backend): each finds and connects the others and joins their
// tables; a user set online on one is then seen on every node.
func runDemo() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var specs []remote.NodeSpec
	for i := range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		specs = append(specs, remote.NodeSpec{Name: fmt.Sprintf("gotp@node%d", i+1), Addrs: []string{ln.Addr().String()}})
		ln.Close()
	}
	var nodes []*service
	for _, spec := range specs {
		s, err := start(options{name: spec.Name, listen: spec.Addrs[0], cookie: "demo", peers: specs})
		if err != nil {
			return err
		}
		defer s.stop()
		nodes = append(nodes, s)
	}
	for _, s := range nodes {
		if err := s.disco.WaitForReady(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.node.Name(), err)
		}
	}
	for _, s := range nodes {
		others, err := cets.OtherNodes(ctx, s.node, actor.Name{Name: tableName})
		if err != nil {
			return err
		}
		fmt.Printf("%s: discovery ready; its table is joined with %v\n", s.node.Name(), others)
	}
	if err := nodes[0].table.Insert(ctx, Presence{User: "alice", Node: nodes[0].node.Name(), Since: time.Now().UTC()}); err != nil {
		return err
	}
	for _, s := range nodes {
		p, ok := s.table.Get("alice")
		if !ok {
			return fmt.Errorf("%s does not see alice", s.node.Name())
		}
		fmt.Printf("%s sees %s online on %s\n", s.node.Name(), p.User, p.Node)
	}
	return nil
}
