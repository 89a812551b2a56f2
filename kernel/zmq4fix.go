package kernel

import (
	"io"
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/go-zeromq/zmq4"
)

// closePubWriter stops the writer goroutine of a zmq4 PUB socket after the socket is
// closed. zmq4 v0.17.0 never stops it (pubSocket.Close does not close its writer), so
// without this every Serve leaks a goroutine and the writer's queue. The writer is an
// unexported field: closePubWriter reaches it by reflection and does nothing if
// zmq4's layout is not the one it knows (TestNoLeaksAcrossServeCycles then fails).
//
// The writer's Close signals a condition variable that its goroutine may not be
// waiting on yet (it could be sending the last message), so the signal is repeated a
// little later (a broadcast: Close itself may not be called twice).
func closePubWriter(s zmq4.Socket) {
	v := reflect.ValueOf(s)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	sck := v.Elem().FieldByName("sck")
	if !sck.IsValid() || sck.Kind() != reflect.Pointer || sck.IsNil() {
		return
	}
	w := sck.Elem().FieldByName("w")
	if !w.IsValid() || w.Kind() != reflect.Interface || w.IsNil() {
		return
	}
	c, ok := field(w).(io.Closer)
	if !ok {
		return
	}
	// The writer's goroutine returns from its condition wait when it finds the
	// writer closed, still holding the queue's lock: Close must not be called twice.
	c.Close()
	wv := reflect.ValueOf(c)
	if wv.Kind() != reflect.Pointer || wv.IsNil() {
		return
	}
	qc := wv.Elem().FieldByName("qcond")
	cond, ok := field(qc).(*sync.Cond)
	if !ok || cond == nil {
		return
	}
	for _, d := range []time.Duration{100 * time.Millisecond, time.Second} {
		time.AfterFunc(d, cond.Broadcast)
	}
}

// field returns the value of an unexported struct field, or nil.
func field(f reflect.Value) any {
	if !f.IsValid() || !f.CanAddr() {
		return nil
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface()
}
