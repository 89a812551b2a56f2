package wire

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"time"
)

// ProtocolVersion is the version of the Jupyter messaging protocol that the kernel
// speaks; every header it sends carries it.
const ProtocolVersion = "5.4"

// NewHeader returns a fresh header of the given type for session.
func NewHeader(msgType, session string) Header {
	return Header{
		MsgID:    NewID(),
		Session:  session,
		Username: "kernel",
		Date:     ISODate(time.Now()),
		MsgType:  msgType,
		Version:  ProtocolVersion,
	}
}

// ISODate returns t in UTC as Jupyter dates a header, in microseconds:
// 2006-01-02T15:04:05.000000Z (what t.UTC().Format of that layout returns, for
// the years 0 to 9999, without parsing the layout for every message).
func ISODate(t time.Time) string {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	var b [27]byte
	put := func(i, v, digits int) {
		for k := i + digits - 1; k >= i; k-- {
			b[k] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, year, 4)
	b[4] = '-'
	put(5, int(month), 2)
	b[7] = '-'
	put(8, day, 2)
	b[10] = 'T'
	put(11, hour, 2)
	b[13] = ':'
	put(14, minute, 2)
	b[16] = ':'
	put(17, sec, 2)
	b[19] = '.'
	put(20, t.Nanosecond()/1000, 6)
	b[26] = 'Z'
	return string(b[:])
}

// NewID returns a random UUID (version 4) in its usual text form, from
// math/rand/v2's generator (ChaCha8, seeded by the runtime from the system's
// randomness), which needs no initialization at startup as crypto/rand does.
func NewID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
