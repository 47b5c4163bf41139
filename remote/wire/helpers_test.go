package wire_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
)

// point is a plain struct sent with gob; its PID, Ref and Name fields must
// survive the trip.
type point struct {
	X, Y  int
	Label string
	Owner actor.PID
	Ref   actor.Ref
	Name  actor.Name
	Tags  []string
}

// celsius is a named basic type: not built in, so it must be registered.
type celsius float64

// ticket uses a codec of its own: its decimal digits.
type ticket uint32

// fragile has a codec that panics on decoding "boom" and fails to encode 13.
type fragile int

// blob's codec writes its bytes as they are, so it can encode to nothing.
type blob string

// statusError is a registered type that is also an error: it keeps its type.
type statusError struct{ Code int }

func (e statusError) Error() string { return "status " + strconv.Itoa(e.Code) }

// unregistered is never registered.
type unregistered struct{ A int }

var errSentinel = wire.MustRegisterError(errors.New("wire_test: sentinel"))

func init() {
	wire.MustRegister[point]("wire_test.point")
	wire.MustRegister[celsius]("wire_test.celsius")
	wire.MustRegister[statusError]("wire_test.statusError")
	if err := wire.RegisterCodec("wire_test.ticket",
		func(t ticket) ([]byte, error) { return strconv.AppendUint(nil, uint64(t), 10), nil },
		func(b []byte) (ticket, error) {
			n, err := strconv.ParseUint(string(b), 10, 32)
			return ticket(n), err
		}); err != nil {
		panic(err)
	}
	if err := wire.RegisterCodec("wire_test.blob",
		func(b blob) ([]byte, error) { return []byte(b), nil },
		func(b []byte) (blob, error) { return blob(b), nil }); err != nil {
		panic(err)
	}
	if err := wire.RegisterCodec("wire_test.fragile",
		func(f fragile) ([]byte, error) {
			if f == 13 {
				return nil, errors.New("unlucky")
			}
			return []byte(strconv.Itoa(int(f))), nil
		},
		func(b []byte) (fragile, error) {
			if string(b) == "boom" {
				panic("boom")
			}
			n, err := strconv.Atoi(string(b))
			return fragile(n), err
		}); err != nil {
		panic(err)
	}
}

// sameValue reports whether a decoded value b matches the sent value a:
// proto messages by proto.Equal, errors by text and errors.Is, floats by
// bits, pointers to registered types by the value they point to.
func sameValue(a, b any) error {
	switch x := a.(type) {
	case proto.Message:
		y, ok := b.(proto.Message)
		if !ok || !proto.Equal(x, y) {
			return fmt.Errorf("proto %v, got %v", x, b)
		}
		return nil
	case error:
		y, ok := b.(error)
		if !ok || y.Error() != x.Error() {
			return fmt.Errorf("error %q, got %#v", x, b)
		}
		return nil
	case float64:
		if y, ok := b.(float64); !ok || math.Float64bits(x) != math.Float64bits(y) {
			return fmt.Errorf("float64 %v, got %#v", x, b)
		}
		return nil
	case float32:
		if y, ok := b.(float32); !ok || math.Float32bits(x) != math.Float32bits(y) {
			return fmt.Errorf("float32 %v, got %#v", x, b)
		}
		return nil
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || y == nil {
			return fmt.Errorf("list %#v, got %#v", x, b)
		}
		for i := range x {
			if err := sameValue(x[i], y[i]); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
		return nil
	case actor.CastMessage:
		y, ok := b.(actor.CastMessage)
		if !ok {
			return fmt.Errorf("cast %#v, got %#v", x, b)
		}
		return sameValue(x.Message, y.Message)
	case celsius:
		if y, ok := b.(celsius); !ok || !sameCelsius(x, y) {
			return fmt.Errorf("celsius %v, got %#v", x, b)
		}
		return nil
	case []byte:
		y, ok := b.([]byte)
		if !ok || string(x) != string(y) {
			return fmt.Errorf("bytes %q, got %#v", x, b)
		}
		return nil
	}
	if v := reflect.ValueOf(a); v.Kind() == reflect.Pointer && !v.IsNil() {
		a = v.Elem().Interface() // *T arrives as T
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("%T %#v, got %T %#v", a, a, b, b)
	}
	return nil
}

// sameEnvelope compares everything but Message and Reason with ==, and those
// two with sameValue.
func sameEnvelope(want, got actor.Envelope) error {
	var errs []string
	if err := sameValue(want.Message, got.Message); err != nil {
		errs = append(errs, "message: "+err.Error())
	}
	if (want.Reason == nil) != (got.Reason == nil) || want.Reason != nil && want.Reason.Error() != got.Reason.Error() {
		errs = append(errs, fmt.Sprintf("reason %v, got %v", want.Reason, got.Reason))
	}
	want.Message, got.Message, want.Reason, got.Reason = nil, nil, nil, nil
	if want != got {
		errs = append(errs, fmt.Sprintf("header %+v, got %+v", want, got))
	}
	if errs != nil {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// celsius compares by bits so that a NaN from the fuzzer equals itself.
func sameCelsius(a, b celsius) bool {
	return math.Float64bits(float64(a)) == math.Float64bits(float64(b))
}
