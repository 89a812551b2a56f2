package kernel

import (
	"context"
	"encoding/json"

	"github.com/gocvx/gocvx/cellio"
)

// Comms: the channels between cell code and the front end (Jupyter widgets). The
// kernel carries their messages both ways and leaves their meaning to the engine:
//
//   - what cell code publishes (cellio.Comm through the cell's output, a
//     cellio.CommOutput) goes out on iopub as comm_open, comm_msg or comm_close, with
//     its metadata and binary buffers;
//   - what the front end sends (comm_open, comm_msg, comm_close on shell) is handed
//     to the engine as it arrives, even while a cell runs (ReceiveComm), so that the
//     state of a widget is current at once and a Stop button can stop the running
//     cell; the callbacks that cell code registered run later, between cells, in the
//     order the messages arrived, through the executor's queue (as ipykernel runs
//     comm messages on its shell queue): never beside a cell;
//   - comm_info_request lists the open comms of a target.
//
// An engine that is not a CommEngine has no comm targets: a comm_open is answered
// with comm_close, other comm messages are dropped.

// CommEngine is an Engine whose cells talk with the front end over comms.
type CommEngine interface {
	Engine
	// ReceiveComm takes a comm message of the front end as soon as it arrives,
	// also while a cell runs. It runs no cell code: it updates what the message
	// changes and answers through out (comm messages that out publishes have the
	// message's request as their parent; a comm_open of an unknown target is
	// answered with comm_close). What the message asks of cell code (its
	// callbacks) is returned as run, nil if nothing; the kernel calls run between
	// cells, in the order of arrival, with a context that an interrupt cancels,
	// and publishes the error it returns. run's output goes to out unless cell
	// code directs it elsewhere.
	ReceiveComm(m cellio.Comm, out cellio.Output) (run func(ctx context.Context) *cellio.Error)
	// Comms lists the open comms whose target is target, or every open comm when
	// target is empty: comm ID → target name.
	Comms(target string) map[string]string
}

// commContent is the content of comm_open, comm_msg and comm_close, both ways.
type commContent struct {
	CommID     string     `json:"comm_id"`
	TargetName string     `json:"target_name,omitempty"` // comm_open
	Data       jsonObject `json:"data"`
}

// comm handles comm_open, comm_msg and comm_close from the front end.
func (st *state) comm(w replyWriter, req *Message) {
	var c commContent
	if !st.decode(req, &c) || c.CommID == "" {
		return
	}
	m := cellio.Comm{
		Kind: cellio.CommKind(req.Header.MsgType), ID: c.CommID, Target: c.TargetName,
		Data: c.Data, Buffers: req.Buffers,
	}
	if len(req.Metadata) > 0 {
		json.Unmarshal(req.Metadata, &m.Metadata) // decoded: the wire checked it is an object
	}
	ce, ok := st.getEngine().(CommEngine)
	if !ok {
		if m.Kind == cellio.CommOpen {
			st.log.Printf("comm_open: no target %q; closing comm %s", c.TargetName, c.CommID)
			w.publish("comm_close", commContent{CommID: c.CommID})
		}
		return
	}
	run := ce.ReceiveComm(m, &cellOutput{w: w})
	if run == nil {
		return
	}
	select {
	case st.execs <- queued{w: w, req: req, run: run}:
	default:
		st.log.Printf("shell: too many queued requests; dropped the callbacks of %s %s", req.Header.MsgType, req.Header.MsgID)
	}
}

// runQueued runs the callbacks of a comm message between busy and idle statuses,
// interruptible like a cell, and publishes their error.
func (st *state) runQueued(q queued) {
	q.w.publish("status", kernelStatus{"busy"})
	defer q.w.publish("status", kernelStatus{"idle"})
	defer st.swapRunning(st.swapRunning(q.w))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st.mu.Lock()
	st.cancelCell = cancel
	st.mu.Unlock()
	defer func() {
		st.mu.Lock()
		st.cancelCell = nil
		st.mu.Unlock()
	}()
	tw := &trackingWriter{replyWriter: q.w}
	defer st.recoverHandler(tw, q.req)
	if e := q.run(ctx); e != nil {
		q.w.publish("error", errorOutput{EName: e.Name, EValue: e.Value, Traceback: nonNil(e.Traceback)})
	}
}

// commInfo lists the open comms of the requested target (all without one).
func (st *state) commInfo(w replyWriter, req *Message) {
	var r struct {
		TargetName string `json:"target_name"`
	}
	st.decode(req, &r)
	comms := jsonObject{}
	if ce, ok := st.getEngine().(CommEngine); ok {
		for id, target := range ce.Comms(r.TargetName) {
			comms[id] = map[string]string{"target_name": target}
		}
	}
	w.reply("comm_info_reply", commInfoReply{Status: "ok", Comms: comms})
}

// Comm publishes a comm message of cell code on iopub, also for a silent execute
// (the widgets it opens must exist in the front end whatever the cell shows).
func (o *cellOutput) Comm(m cellio.Comm) {
	msgType := string(m.Kind)
	switch m.Kind {
	case cellio.CommOpen, cellio.CommMsg, cellio.CommClose:
	default:
		return
	}
	c := commContent{CommID: m.ID, Data: m.Data}
	if m.Kind == cellio.CommOpen {
		c.TargetName = m.Target
	}
	o.w.publishParts(msgType, c, m.Metadata, m.Buffers)
}
