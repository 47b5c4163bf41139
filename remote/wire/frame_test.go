package wire_test

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// handshakeFrames has a frame of every handshake kind, fields filled.
var handshakeFrames = []struct {
	name  string
	frame *wirepb.Frame
}{
	{"hello", &wirepb.Frame{Body: &wirepb.Frame_Hello{Hello: &wirepb.Hello{
		Name: "a@host", Creation: 7, Version: 1, Tags: map[string]string{"zone": "eu", "role": "server"},
		Addrs: []string{"10.0.0.1:4370", "[::1]:4370"}, ExpectName: "b@host", Channel: "bulk", ConnIndex: 3,
		Challenge: []byte("0123456789abcdef0123456789abcdef"),
	}}}},
	{"empty hello", &wirepb.Frame{Body: &wirepb.Frame_Hello{Hello: &wirepb.Hello{}}}},
	{"challenge", &wirepb.Frame{Body: &wirepb.Frame_Challenge{Challenge: &wirepb.Challenge{
		Name: "b@host", Creation: 9, Tags: map[string]string{"zone": "us"}, Addrs: []string{"10.0.0.2:4370"},
		Challenge: []byte("fedcba9876543210fedcba9876543210"), Digest: []byte{1, 2, 3, 4},
	}}}},
	{"challenge ack", &wirepb.Frame{Body: &wirepb.Frame_ChallengeAck{ChallengeAck: &wirepb.ChallengeAck{Digest: []byte{5, 6, 7}}}}},
	{"accept", &wirepb.Frame{Body: &wirepb.Frame_Accept{Accept: &wirepb.Accept{}}}},
	{"accept with parallelism", &wirepb.Frame{Body: &wirepb.Frame_Accept{Accept: &wirepb.Accept{Parallelism: 4}}}},
	{"refuse", &wirepb.Frame{Body: &wirepb.Frame_Refuse{Refuse: &wirepb.Refuse{Reason: "bad cookie"}}}},
	{"refuse with referral", &wirepb.Frame{Body: &wirepb.Frame_Refuse{Refuse: &wirepb.Refuse{
		Reason: "not a server", ReferralName: "c@host", ReferralAddrs: []string{"10.0.0.3:4370"},
	}}}},
}

func TestFrameRoundTrip(t *testing.T) {
	for _, tc := range handshakeFrames {
		t.Run(tc.name, func(t *testing.T) {
			data, err := wire.EncodeFrame(tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			got, err := wire.DecodeFrame(data)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(tc.frame, got) {
				t.Fatalf("got %v, want %v", got, tc.frame)
			}
			appended, err := wire.AppendFrame([]byte{9}, tc.frame)
			if err != nil || string(appended[1:]) != string(data) || appended[0] != 9 {
				t.Fatalf("AppendFrame = %q, %v", appended, err)
			}
			if _, err := wire.DecodeEnvelope(data); !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("DecodeEnvelope of a %s frame: %v, want ErrMalformed", tc.name, err)
			}
		})
	}
}

func TestEncodeFrameErrors(t *testing.T) {
	tests := []struct {
		name  string
		frame *wirepb.Frame
	}{
		{"nil", nil},
		{"no body", &wirepb.Frame{}},
		{"invalid utf8", &wirepb.Frame{Body: &wirepb.Frame_Hello{Hello: &wirepb.Hello{Name: "\xff"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := wire.EncodeFrame(tc.frame); !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("EncodeFrame: %v, want ErrMalformed", err)
			}
			if _, err := wire.AppendFrame(nil, tc.frame); !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("AppendFrame: %v, want ErrMalformed", err)
			}
		})
	}
}
