package etf_test

import (
	"fmt"

	"github.com/gotp-dev/gotp/erlang/etf"
)

// account crosses as the record -record(account, {owner, balance, tags}).
type account struct {
	Owner   string
	Balance int
	Tags    []string
}

// term_to_binary and binary_to_term: a Go value encoded as the bytes
// Erlang reads, a registered struct crossing as a record, and a term as
// the VM writes it decoded and turned back into Go values.
func Example() {
	if err := etf.RegisterRecord("account", account{}); err != nil {
		panic(err)
	}

	// term_to_binary({ok, [1, two, <<"three">>]}).
	b, err := etf.Encode(etf.Tuple{etf.Atom("ok"), []any{1, etf.Atom("two"), "three"}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", b)

	// binary_to_term(<<131,104,2,100,0,2,111,107,97,42>>): {ok, 42}, with an
	// atom in the old latin-1 form a VM still sends.
	v, err := etf.Decode([]byte{131, 104, 2, 100, 0, 2, 111, 107, 97, 42})
	if err != nil {
		panic(err)
	}
	t := v.(etf.Tuple)
	fmt.Println(etf.Format(t), t[0] == etf.Atom("ok"), t[1].(int64)+1)

	// A record both ways: the struct leaves as a tuple tagged account and
	// comes back as the struct once ToGo recognises it.
	b, _ = etf.Encode(account{Owner: "alice", Balance: 10, Tags: []string{"vip"}})
	v, _ = etf.Decode(b)
	fmt.Println(etf.Format(v))
	acct := etf.ToGo(v).(account)
	fmt.Printf("%+v\n", acct)

	// Erlang's "abc" is a list of character codes; Equal takes the compact
	// and the plain form alike.
	fmt.Println(etf.Equal(etf.Charlist("abc"), etf.List{int64('a'), int64('b'), int64('c')}))
	// Output:
	// 83 68 02 77 02 6f 6b 6c 00 00 00 03 61 01 77 03 74 77 6f 6d 00 00 00 05 74 68 72 65 65 6a
	// {ok,42} true 43
	// {account,<<"alice">>,10,[<<"vip">>]}
	// {Owner:alice Balance:10 Tags:[vip]}
	// true
}
