package etf

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Format writes a term as Erlang source would (io:format's ~p, on one line).
func Format(v any) string {
	var b strings.Builder
	format(&b, v)
	return b.String()
}

func (t Tuple) String() string        { return Format(t) }
func (l List) String() string         { return Format(l) }
func (m Map) String() string          { return Format(m) }
func (l ImproperList) String() string { return Format(l) }
func (b BitBinary) String() string    { return Format(b) }

func format(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("[]")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case Atom:
		b.WriteString(quoteAtom(string(v)))
	case string:
		formatBinary(b, []byte(v))
	case []byte:
		formatBinary(b, v)
	case Charlist:
		b.WriteString(strconv.Quote(string(v)))
	case Tuple:
		b.WriteByte('{')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			format(b, e)
		}
		b.WriteByte('}')
	case List:
		formatList(b, v, nil)
	case []any:
		formatList(b, v, nil)
	case ImproperList:
		formatList(b, v.Elems, v.Tail)
	case Map:
		b.WriteString("#{")
		for i, p := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			format(b, p.Key)
			b.WriteString(" => ")
			format(b, p.Value)
		}
		b.WriteByte('}')
	case BitBinary:
		b.WriteString("<<")
		for i, c := range v.Bytes {
			if i > 0 {
				b.WriteByte(',')
			}
			if i == len(v.Bytes)-1 {
				fmt.Fprintf(b, "%d:%d", c>>(8-v.Bits), v.Bits)
			} else {
				fmt.Fprint(b, c)
			}
		}
		b.WriteString(">>")
	case float64:
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	case *big.Int:
		b.WriteString(v.String())
	case Pid:
		b.WriteString(v.String())
	case Ref:
		b.WriteString(v.String())
	case Port:
		fmt.Fprintf(b, "#Port<%s.%d>", v.Node, v.ID)
	default:
		fmt.Fprint(b, v)
	}
}

func formatList(b *strings.Builder, elems []any, tail any) {
	b.WriteByte('[')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		format(b, e)
	}
	if tail != nil {
		b.WriteByte('|')
		format(b, tail)
	}
	b.WriteByte(']')
}

func formatBinary(b *strings.Builder, data []byte) {
	printable := utf8.Valid(data)
	for _, c := range data {
		if c < 0x20 || c == 0x7f {
			printable = false
		}
	}
	if printable {
		b.WriteString("<<")
		b.WriteString(strconv.Quote(string(data)))
		b.WriteString(">>")
		return
	}
	b.WriteString("<<")
	for i, c := range data {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(b, c)
	}
	b.WriteString(">>")
}

// quoteAtom quotes an atom as Erlang prints it: bare when it starts with a
// lower-case letter and holds only letters, digits, _ and @.
func quoteAtom(a string) string {
	bare := a != ""
	for i, r := range a {
		switch {
		case i == 0 && (r < 'a' || r > 'z'):
			bare = false
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '@':
		default:
			bare = false
		}
	}
	if bare {
		return a
	}
	return "'" + strings.ReplaceAll(strings.ReplaceAll(a, `\`, `\\`), "'", `\'`) + "'"
}
