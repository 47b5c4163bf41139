package transport_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/transport/tlstest"
)

// Two nodes on an in-memory network, with a partition and a hook.
func ExampleNetwork() {
	ctx := context.Background()
	network := transport.NewNetwork(1)
	listener, _ := network.Transport("b").Listen("b")
	defer listener.Close()

	a, _ := network.Transport("a").Dial(ctx, "b")
	defer a.Close()
	b, _ := listener.Accept(ctx)
	defer b.Close()

	network.SetHook(func(from, to string, frame []byte) ([]byte, bool) {
		fmt.Printf("%s→%s %q\n", from, to, frame)
		return frame, true
	})
	a.WriteFrames([][]byte{[]byte("hello"), []byte("world")})
	for range 2 {
		frame, _ := b.ReadFrame()
		fmt.Printf("b read %q\n", frame)
	}

	network.Partition([]string{"a"}, []string{"b"})
	a.WriteFrames([][]byte{[]byte("lost")}) // dropped before the hook
	_, err := network.Transport("a").Dial(ctx, "b")
	fmt.Println(err)
	fmt.Printf("%+v\n", network.Stats())
	// Output:
	// a→b "hello"
	// a→b "world"
	// b read "hello"
	// b read "world"
	// transport: dial b from a: transport: unreachable: partitioned
	// {Sent:3 Delivered:2 Dropped:1 Lost:0}
}

// Two nodes over TCP with mutual TLS 1.3. The same config serves Listen and
// Dial; here it comes from tlstest, in production from the cluster's CA.
func ExampleTCP() {
	ctx := context.Background()
	ca, err := tlstest.NewCA()
	if err != nil {
		panic(err)
	}
	serverConfig, _ := ca.NodeConfig("b")
	clientConfig, _ := ca.NodeConfig("a")

	server := &transport.TCP{TLS: serverConfig, MaxFrameSize: 1 << 20}
	listener, err := server.Listen("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer listener.Close()

	client := &transport.TCP{TLS: clientConfig, MaxFrameSize: 1 << 20, DialTimeout: 5 * time.Second}
	a, err := client.Dial(ctx, listener.Addr())
	if err != nil {
		panic(err)
	}
	defer a.Close()
	b, err := listener.Accept(ctx)
	if err != nil {
		panic(err)
	}
	defer b.Close()

	a.WriteFrames([][]byte{[]byte("hello"), []byte("over tls")})
	for range 2 {
		frame, _ := b.ReadFrame()
		fmt.Printf("%q\n", frame)
	}
	state := b.TLSState()
	fmt.Println(state.Version == tls.VersionTLS13, state.PeerCertificates[0].Subject.CommonName)
	// Output:
	// "hello"
	// "over tls"
	// true a
}
