package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/gotp-dev/gotp/remote"
)

// Resolver is the part of *net.Resolver the DNS backend uses. Tests and
// programs with their own DNS servers pass a net.Resolver whose Dial goes
// there (PreferGo: true).
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupSRV(ctx context.Context, service, proto, name string) (cname string, addrs []*net.SRV, err error)
}

var _ Resolver = (*net.Resolver)(nil)

// DNSBackend finds nodes in DNS, the way a Kubernetes headless service
// publishes its pods: either the A and AAAA records of one name (each address
// is a node, reached at Port), or the SRV records of a service (each target
// is a node, reached at the record's port).
//
// A name that does not exist, or has no records, is an empty cluster, not
// an error: the first pod of a headless service is not in DNS before it is
// ready, and it must not wait for itself. Other resolver failures are errors.
//
// Node names are made from the host (the address, or the SRV target without
// its trailing dot) by NodeName; the default is NamePrefix + "@" + host, so
// every pod must name its node that way ("gotp@10.1.2.3", or
// "gotp@pod-0.svc.ns.svc.cluster.local" with SRV).
type DNSBackend struct {
	// Name is the DNS name: the headless service's name for A/AAAA, or the
	// domain of the SRV records ("svc.ns.svc.cluster.local").
	Name string
	// Service and Proto, when Service is set, look up SRV records
	// _Service._Proto.Name (Proto defaults to "tcp") instead of addresses.
	// Kubernetes publishes one for each named port of a headless service.
	Service string
	Proto   string
	// Port is the distribution port of the nodes found by address; the
	// addresses in their specs are address:Port. Without it the specs carry
	// no address.
	Port int
	// NamePrefix is the part of node names before "@". Default "gotp".
	NamePrefix string
	// NodeName maps a host to a node name, replacing NamePrefix.
	NodeName func(host string) string
	// Resolver does the lookups. Default net.DefaultResolver.
	Resolver Resolver
}

var _ Backend = (*DNSBackend)(nil)

// Init implements Backend.
func (b *DNSBackend) Init(BackendInfo) error {
	if b.Name == "" {
		return fmt.Errorf("%w: DNS backend without a name", ErrConfig)
	}
	if b.Port < 0 || b.Port > 65535 {
		return fmt.Errorf("%w: DNS backend port %d", ErrConfig, b.Port)
	}
	return nil
}

func (b *DNSBackend) resolver() Resolver {
	if b.Resolver != nil {
		return b.Resolver
	}
	return net.DefaultResolver
}

func (b *DNSBackend) nodeName(host string) string {
	if b.NodeName != nil {
		return b.NodeName(host)
	}
	prefix := b.NamePrefix
	if prefix == "" {
		prefix = "gotp"
	}
	return prefix + "@" + host
}

// GetNodes implements Backend. The specs are sorted by name; a node found
// twice (an address in A and AAAA, a target on two ports) has all its
// addresses.
func (b *DNSBackend) GetNodes(ctx context.Context) ([]remote.NodeSpec, error) {
	byName := map[string][]string{}
	if b.Service != "" {
		proto := b.Proto
		if proto == "" {
			proto = "tcp"
		}
		_, srvs, err := b.resolver().LookupSRV(ctx, b.Service, proto, b.Name)
		if err != nil {
			if isNotFound(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("discovery: look up SRV _%s._%s.%s: %w", b.Service, proto, b.Name, err)
		}
		for _, s := range srvs {
			host := strings.TrimSuffix(s.Target, ".")
			if host == "" {
				continue
			}
			name := b.nodeName(host)
			byName[name] = append(byName[name], net.JoinHostPort(host, strconv.Itoa(int(s.Port))))
		}
	} else {
		addrs, err := b.resolver().LookupIPAddr(ctx, b.Name)
		if err != nil {
			if isNotFound(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("discovery: look up %s: %w", b.Name, err)
		}
		for _, a := range addrs {
			host := a.IP.String()
			name := b.nodeName(host)
			if _, ok := byName[name]; !ok {
				byName[name] = nil
			}
			if b.Port != 0 {
				byName[name] = append(byName[name], net.JoinHostPort(host, strconv.Itoa(b.Port)))
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]remote.NodeSpec, 0, len(names))
	for _, n := range names {
		addrs := byName[n]
		slices.Sort(addrs)
		out = append(out, remote.NodeSpec{Name: n, Addrs: slices.Compact(addrs)})
	}
	return out, nil
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}
