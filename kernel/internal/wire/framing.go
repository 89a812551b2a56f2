package wire

import "encoding/binary"

// ZMTP 3 frame flags.
const (
	FlagMore    = 0x01
	FlagLong    = 0x02
	FlagCommand = 0x04
)

// AppendMessage appends to dst the ZMTP 3 framing of a message of the given frames
// (each frame: its flags, FlagMore on all but the last and FlagLong on those longer
// than 255 bytes; its length in 1 or 8 big-endian bytes; its body), as it goes on
// the wire.
func AppendMessage(dst []byte, frames [][]byte) []byte {
	for i, f := range frames {
		var flags byte
		if i < len(frames)-1 {
			flags = FlagMore
		}
		if len(f) > 255 {
			dst = append(dst, flags|FlagLong)
			dst = binary.BigEndian.AppendUint64(dst, uint64(len(f)))
		} else {
			dst = append(dst, flags, byte(len(f)))
		}
		dst = append(dst, f...)
	}
	return dst
}
