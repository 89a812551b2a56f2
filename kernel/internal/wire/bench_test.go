package wire

import "testing"

// benchMessage is an execute_result as the kernel publishes it for the cell 1 + 1.
func benchMessage() Message {
	h := Header{MsgID: "f3c1bb3e-6a85-4c1c-8c5b-2f1d2b4b8d7e", Session: "0b6f2e4c-1f1c-4c5e-9a55-9e1c8f0a3d21", Username: "kernel",
		Date: "2026-12-07T07:50:00.123456Z", MsgType: "execute_result", Version: "5.4"}
	p := Header{MsgID: "a39b2952-d3c7d108ed111403ed6bcc77_24241_5", Session: "a39b2952-d3c7d108ed111403ed6bcc77", Username: "root",
		Date: "2026-12-07T07:50:00.120000Z", MsgType: "execute_request", Version: "5.4"}
	return Message{
		Identities: [][]byte{[]byte("kernel.0b6f2e4c.execute_result")},
		Header:     h, Parent: &p,
		Content: []byte(`{"execution_count":7,"data":{"text/plain":"2"},"metadata":{}}`),
	}
}

// BenchmarkEncode is the encoding and signing of a message the kernel sends.
func BenchmarkEncode(b *testing.B) {
	m, key := benchMessage(), []byte("0123456789abcdef0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(m, key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode is the decoding and signature check of a message the kernel
// receives.
func BenchmarkDecode(b *testing.B) {
	m, key := benchMessage(), []byte("0123456789abcdef0123456789abcdef")
	frames, err := Encode(m, key)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(frames, key); err != nil {
			b.Fatal(err)
		}
	}
}
