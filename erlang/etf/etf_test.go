package etf_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/gotp-dev/gotp/erlang/etf"
	"github.com/gotp-dev/gotp/internal/erltest"
)

func bigInt(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return v
}

// vmCases are terms written in Erlang, each with the Go value it decodes to.
var vmCases = []struct {
	erl        string
	want       any
	compressed bool
}{
	{"0", int64(0), false},
	{"255", int64(255), false},
	{"256", int64(256), false},
	{"-1", int64(-1), false},
	{"-2147483648", int64(math.MinInt32), false},
	{"2147483647", int64(math.MaxInt32), false},
	{"1 bsl 40", int64(1 << 40), false},
	{"9223372036854775807", int64(math.MaxInt64), false},
	{"-9223372036854775808", int64(math.MinInt64), false},
	{"18446744073709551615", bigInt("18446744073709551615"), false},
	{"-(1 bsl 200)", new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 200)), false},
	{"1 bsl 2100", new(big.Int).Lsh(big.NewInt(1), 2100), false},
	{"3.5", 3.5, false},
	{"-0.1", -0.1, false},
	{"hello", etf.Atom("hello"), false},
	{"'with space'", etf.Atom("with space"), false},
	{"'héllo'", etf.Atom("héllo"), false},
	{"list_to_atom([26085,26412])", etf.Atom("日本"), false},
	{"true", true, false},
	{"false", false, false},
	{"[]", etf.List{}, false},
	{`"abc"`, etf.Charlist("abc"), false},
	{"[1000, -5, a]", etf.List{int64(1000), int64(-5), etf.Atom("a")}, false},
	{"[1, 2 | 3]", etf.ImproperList{Elems: []any{int64(1), int64(2)}, Tail: int64(3)}, false},
	{"<<1,2,3>>", []byte{1, 2, 3}, false},
	{"<<>>", []byte{}, false},
	{"<<1:3>>", etf.BitBinary{Bytes: []byte{0x20}, Bits: 3}, false},
	{"{}", etf.Tuple{}, false},
	{"{a, [b, {c}], #{k => v}}", etf.Tuple{etf.Atom("a"), etf.List{etf.Atom("b"), etf.Tuple{etf.Atom("c")}}, etf.Map{{Key: etf.Atom("k"), Value: etf.Atom("v")}}}, false},
	{"#{[1] => {2}, <<\"k\">> => 1.0}", etf.Map{{Key: etf.List{int64(1)}, Value: etf.Tuple{int64(2)}}, {Key: []byte("k"), Value: 1.0}}, false},
	{"list_to_tuple(lists:seq(1, 300))", seqTuple(300), false},
	{"lists:seq(1, 1000)", seqList(1000), true},
	{"list_to_pid(\"<0.81.3>\")", etf.Pid{Node: "nonode@nohost", ID: 81, Serial: 3}, false},
}

func seqList(n int) etf.List {
	l := make(etf.List, n)
	for i := range l {
		l[i] = int64(i + 1)
	}
	return l
}

func seqTuple(n int) etf.Tuple { return etf.Tuple(seqList(n)) }

// Terms made by a real Erlang VM decode to the Go values the package
// documents, and what Go encodes from those values the VM decodes to the
// very same terms (=:=).
func TestAgainstTheVM(t *testing.T) {
	var exprs []string
	for _, c := range vmCases {
		opts := "[]"
		if c.compressed {
			opts = "[compressed]"
		}
		exprs = append(exprs, fmt.Sprintf("{%s, %s}", c.erl, opts))
	}
	out := erltest.Eval(t, fmt.Sprintf(
		`[io:format("~s~n", [binary:encode_hex(term_to_binary(T, O))]) || {T, O} <- [%s]]`, strings.Join(exprs, ", ")))
	lines := erltest.Lines(out)
	if len(lines) != len(vmCases) {
		t.Fatalf("erl printed %d lines for %d cases:\n%s", len(lines), len(vmCases), out)
	}
	var back []string
	for i, c := range vmCases {
		data, err := hex.DecodeString(lines[i])
		if err != nil {
			t.Fatal(err)
		}
		got, err := etf.Decode(data)
		if err != nil {
			t.Errorf("%s: decode %x: %v", c.erl, data, err)
			back = append(back, "<<>>")
			continue
		}
		if !etf.Equal(got, c.want) {
			t.Errorf("%s: decoded %#v, want %#v", c.erl, got, c.want)
		}
		if c.compressed && data[1] != 80 {
			t.Errorf("%s: the VM did not compress it; the case tests nothing", c.erl)
		}
		enc, err := etf.Encode(c.want)
		if err != nil {
			t.Errorf("%s: encode %#v: %v", c.erl, c.want, err)
			back = append(back, "<<>>")
			continue
		}
		back = append(back, fmt.Sprintf("{%s, binary:decode_hex(<<\"%X\">>)}", c.erl, enc))
	}
	out = erltest.Eval(t, fmt.Sprintf(
		`[io:format("~p~n", [catch binary_to_term(B) =:= T]) || {T, B} <- [%s]]`, strings.Join(back, ", ")))
	lines = erltest.Lines(out)
	if len(lines) != len(vmCases) {
		t.Fatalf("erl printed %d lines for %d cases:\n%s", len(lines), len(vmCases), out)
	}
	for i, c := range vmCases {
		if lines[i] != "true" {
			t.Errorf("%s: the VM decoded Go's encoding of %#v to another term (%s)", c.erl, c.want, lines[i])
		}
	}
}

// References and ports come from a live VM; they travel back to it intact.
func TestReferencesAndPortsRoundTrip(t *testing.T) {
	out := erltest.Eval(t, `R = make_ref(), P = hd(erlang:ports()), A = erlang:alias(),
		io:format("~s~n~s~n~s~n", [binary:encode_hex(term_to_binary(X)) || X <- [R, P, A]])`)
	lines := erltest.Lines(out)
	if len(lines) != 3 {
		t.Fatalf("erl printed %q", out)
	}
	var pairs []string
	for i, want := range []string{"reference", "port", "alias"} {
		data, _ := hex.DecodeString(lines[i])
		v, err := etf.Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		switch v := v.(type) {
		case etf.Ref:
			if want == "port" || v.Node != "nonode@nohost" || len(v.IDs) < 3 {
				t.Fatalf("%s decoded as %#v", want, v)
			}
		case etf.Port:
			if want != "port" || v.Node != "nonode@nohost" {
				t.Fatalf("%s decoded as %#v", want, v)
			}
		default:
			t.Fatalf("%s decoded as %#v", want, v)
		}
		enc, err := etf.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, fmt.Sprintf("{<<\"%s\">>, <<\"%X\">>}", lines[i], enc))
	}
	out = erltest.Eval(t, fmt.Sprintf(
		`[io:format("~p~n", [binary_to_term(binary:decode_hex(A)) =:= binary_to_term(binary:decode_hex(B))]) || {A, B} <- [%s]]`, strings.Join(pairs, ", ")))
	if got := strings.Join(erltest.Lines(out), " "); got != "true true true" {
		t.Fatalf("the VM read Go's encodings of a reference, a port and an alias as other terms: %s", got)
	}
}

// Funs do not cross to Go; the error says so.
func TestFunsAreRefused(t *testing.T) {
	out := erltest.Eval(t, `io:format("~s~n~s~n", [binary:encode_hex(term_to_binary(X)) || X <- [fun() -> ok end, fun lists:map/2]])`)
	for _, line := range erltest.Lines(out) {
		data, _ := hex.DecodeString(line)
		if _, err := etf.Decode(data); !errors.Is(err, etf.ErrUnsupported) {
			t.Errorf("decode of a fun: %v, want ErrUnsupported", err)
		}
	}
}

func TestEncodeRefusesWhatErlangCannotHold(t *testing.T) {
	for _, v := range []any{math.NaN(), math.Inf(1), etf.Atom(strings.Repeat("a", 256)), struct{}{}, etf.Ref{Node: "n"}, etf.BitBinary{Bits: 3}} {
		if _, err := etf.Encode(v); !errors.Is(err, etf.ErrUnsupported) {
			t.Errorf("encode %#v: %v, want ErrUnsupported", v, err)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	deep := []byte{131}
	for range 300 {
		deep = append(deep, 104, 1) // {{{...
	}
	deep = append(deep, 106)
	if _, err := etf.Decode(deep); !errors.Is(err, etf.ErrLimit) {
		t.Errorf("300 nested tuples: %v, want ErrLimit", err)
	}
	if _, err := (etf.Decoder{MaxDepth: 400}).Decode(deep); err != nil {
		t.Errorf("300 nested tuples with MaxDepth 400: %v", err)
	}
	cases := map[string][]byte{
		"list of 4G elements in 5 bytes":   {131, 108, 255, 255, 255, 255, 106},
		"binary of 4 GiB in no bytes":      {131, 109, 255, 255, 255, 255},
		"map of 1G pairs":                  {131, 116, 64, 0, 0, 0, 106, 106},
		"tuple cut short":                  {131, 104, 3, 97, 1},
		"atom of 200 bytes in 3":           {131, 119, 200, 97, 98, 99},
		"big integer cut short":            {131, 110, 8, 0, 1, 2},
		"no version":                       {104, 0},
		"unknown tag":                      {131, 1},
		"trailing bytes":                   {131, 106, 106},
		"reference of 1000 words":          {131, 90, 3, 232, 119, 1, 97, 0, 0, 0, 0},
		"compressed bomb claim":            {131, 80, 255, 255, 255, 255, 120, 156},
		"bit binary with 0 bits":           {131, 77, 0, 0, 0, 1, 0, 255},
		"atom that is not UTF-8":           {131, 119, 2, 0xff, 0xfe},
		"small tuple longer than the rest": {131, 104, 255},
	}
	for name, data := range cases {
		if _, err := etf.Decode(data); err == nil {
			t.Errorf("%s: decoded", name)
		} else if !errors.Is(err, etf.ErrMalformed) && !errors.Is(err, etf.ErrLimit) {
			t.Errorf("%s: %v, want ErrMalformed or ErrLimit", name, err)
		}
	}
}

// Go values round-trip through the codec alone.
func TestRoundTrip(t *testing.T) {
	values := []any{
		int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64), uint64(math.MaxUint64),
		bigInt("-123456789012345678901234567890"), 2.25, etf.Atom(""), etf.Atom("ok"), true, false,
		"a string is a binary", []byte{}, etf.Charlist(strings.Repeat("x", 70000)),
		etf.Tuple{int64(1), etf.List{}, etf.Map{}}, etf.ImproperList{Elems: []any{etf.Atom("a")}, Tail: etf.Atom("b")},
		etf.Pid{Node: "n@h", ID: 1, Serial: 2, Creation: 3}, etf.Ref{Node: "n@h", Creation: 9, IDs: []uint32{1, 2, 3, 4, 5}},
		etf.Port{Node: "n@h", ID: 1 << 40, Creation: 2}, etf.BitBinary{Bytes: []byte{0xf0}, Bits: 4},
	}
	for _, v := range values {
		b, err := etf.Encode(v)
		if err != nil {
			t.Fatalf("encode %#v: %v", v, err)
		}
		got, err := etf.Decode(b)
		if err != nil {
			t.Fatalf("decode %#v: %v", v, err)
		}
		if !etf.Equal(got, v) {
			t.Errorf("%#v came back as %#v", v, got)
		}
	}
}

func TestFormat(t *testing.T) {
	cases := map[string]any{
		`{done,<<"with a reason">>}`:      etf.Tuple{etf.Atom("done"), []byte("with a reason")},
		`[1,2|3]`:                         etf.ImproperList{Elems: []any{int64(1), int64(2)}, Tail: int64(3)},
		`#{k => 'Quoted atom',[] => 1.5}`: etf.Map{{Key: etf.Atom("k"), Value: etf.Atom("Quoted atom")}, {Key: etf.List{}, Value: 1.5}},
		`<<1,255>>`:                       []byte{1, 255},
		`"abc"`:                           etf.Charlist("abc"),
		`{true,'go@host-1'}`:              etf.Tuple{true, etf.Atom("go@host-1")},
	}
	for want, v := range cases {
		if got := etf.Format(v); got != want {
			t.Errorf("Format(%#v) = %s, want %s", v, got, want)
		}
	}
}

type point struct{ X, Y int }

type settings struct {
	Name  string
	Size  uint16 `etf:"size_bytes"`
	Tags  []string
	Where point
	skip  int
}

func init() {
	if err := etf.RegisterRecord("point", point{}); err != nil {
		panic(err)
	}
	if err := etf.RegisterMap(settings{}); err != nil {
		panic(err)
	}
}

// Registered structs cross as records and maps the VM reads as such, and
// records the VM writes come back as the structs.
func TestRecordsAndMapsAgainstTheVM(t *testing.T) {
	p, err := etf.Encode(point{X: 1, Y: -2})
	if err != nil {
		t.Fatal(err)
	}
	s, err := etf.Encode(settings{Name: "n", Size: 3, Tags: []string{"a"}, Where: point{X: 5}})
	if err != nil {
		t.Fatal(err)
	}
	out := erltest.Eval(t, fmt.Sprintf(`
		io:format("~p~n", [binary_to_term(binary:decode_hex(<<"%X">>)) =:= {point, 1, -2}]),
		io:format("~p~n", [binary_to_term(binary:decode_hex(<<"%X">>)) =:= #{name => <<"n">>, size_bytes => 3, tags => [<<"a">>], where => {point, 5, 0}}]),
		io:format("~s~n", [binary:encode_hex(term_to_binary([{point, 7, 8}, {point, x, 1}, {other, 1, 2}]))])`, p, s))
	lines := erltest.Lines(out)
	if len(lines) != 3 || lines[0] != "true" || lines[1] != "true" {
		t.Fatalf("the VM read Go's record and map as other terms:\n%s", out)
	}
	data, _ := hex.DecodeString(lines[2])
	v, err := etf.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	got := etf.ToGo(v).(etf.List)
	if got[0] != (point{X: 7, Y: 8}) {
		t.Errorf("{point, 7, 8} came back as %#v", got[0])
	}
	if _, ok := got[1].(etf.Tuple); !ok {
		t.Errorf("{point, x, 1} (fields that do not convert) came back as %#v, want the tuple", got[1])
	}
	if _, ok := got[2].(etf.Tuple); !ok {
		t.Errorf("{other, 1, 2} came back as %#v", got[2])
	}
}
