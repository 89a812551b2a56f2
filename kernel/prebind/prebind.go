// Package prebind listens on the TCP ports of a kernel's connection file while the
// rest of the program is still initializing, so that a client that connects at
// once finds the ports open. Without it, a client that connects before the kernel
// listens is refused and libzmq tries again only after its reconnect interval
// (100 ms plus up to 100 ms of jitter): the startup time of a kernel was either
// about 25 ms or about 150 ms.
//
// Go initializes a program's packages one at a time, each after the packages it
// imports, picking the first in the order of import paths among those that are
// ready (Go 1.21 and later). This package imports only os and syscall, so a
// package that calls Listen from its init function, and imports nothing heavier,
// runs before the interpreter's symbol tables, the display and plotting packages
// and the rest are initialized. The gocvx command does so for `gocvx kernel -f
// FILE` (cmd/gocvx/internal/listenfirst). The kernel then takes the listening
// sockets (Take) instead of binding the ports itself.
//
// Only TCP on IPv4 addresses is bound early, on Linux; anything else (ipc, a host
// name, another system) is left to the kernel, as is a port that cannot be bound.
package prebind

import (
	"os"
	"strconv"
	"sync"
)

var (
	mu        sync.Mutex
	listeners = map[string]int{} // "IP:port" → listening socket
	bound     *Bound             // what Listen bound, for Connection
)

// Bound is what Listen read from a connection file and bound.
type Bound struct {
	Key, SignatureScheme string
	// Addrs maps the name of each port that Listen bound, without "_port"
	// ("shell", "iopub", …), to its address (IP:port).
	Addrs map[string]string
}

// Connection returns what the last call of Listen bound, if it bound anything
// (Take may have handed its sockets out since).
func Connection() (Bound, bool) {
	mu.Lock()
	defer mu.Unlock()
	if bound == nil {
		return Bound{}, false
	}
	return *bound, true
}

// Listen binds and listens on the TCP ports named in the connection file at path,
// if it can read them there. It never fails: what it cannot do is left to the
// kernel.
func Listen(path string) {
	mu.Lock()
	bound = nil
	mu.Unlock()
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	c, ok := parseConnection(b)
	if !ok || c.strings["transport"] != "tcp" {
		return
	}
	ip, ok := parseIPv4(c.strings["ip"])
	if !ok {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	nb := &Bound{Key: c.strings["key"], SignatureScheme: c.strings["signature_scheme"], Addrs: map[string]string{}}
	for _, name := range []string{"shell", "iopub", "stdin", "control", "hb"} {
		port := c.numbers[name+"_port"]
		if port <= 0 || port > 65535 {
			continue
		}
		addr := c.strings["ip"] + ":" + strconv.Itoa(port)
		if _, done := listeners[addr]; done {
			nb.Addrs[name] = addr
			continue
		}
		if fd, ok := listen(ip, port); ok {
			listeners[addr] = fd
			nb.Addrs[name] = addr
		}
	}
	if len(nb.Addrs) > 0 {
		bound = nb
	}
}

// Take returns the listening socket bound early to addr ("IP:port"), which the
// caller then owns, and reports whether there was one.
func Take(addr string) (fd int, ok bool) {
	mu.Lock()
	defer mu.Unlock()
	fd, ok = listeners[addr]
	delete(listeners, addr)
	return fd, ok
}

// CloseUntaken closes the sockets bound early that nobody took.
func CloseUntaken() {
	mu.Lock()
	defer mu.Unlock()
	for addr, fd := range listeners {
		closeSocket(fd)
		delete(listeners, addr)
	}
}

// parseIPv4 parses a dotted IPv4 address.
func parseIPv4(s string) (ip [4]byte, ok bool) {
	n, part := 0, -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if part < 0 || n == 4 {
				return ip, false
			}
			ip[n], n, part = byte(part), n+1, -1
			continue
		}
		if s[i] < '0' || s[i] > '9' || part == 0 {
			return ip, false // a digit, without leading zeros
		}
		part = max(part, 0)*10 + int(s[i]-'0')
		if part > 255 {
			return ip, false
		}
	}
	return ip, n == 4
}

// connection holds the string and integer members of a connection file.
type connection struct {
	strings map[string]string
	numbers map[string]int
}

// parseConnection reads a JSON object whose members are strings and integers, as
// a connection file is, without encoding/json (which would wait for most of the
// standard library to be initialized). It reports false for anything else.
func parseConnection(b []byte) (c connection, ok bool) {
	c = connection{strings: map[string]string{}, numbers: map[string]int{}}
	p := &scanner{b: b}
	if !p.byte('{') {
		return c, false
	}
	if p.byte('}') {
		return c, p.end()
	}
	for {
		key, ok := p.string()
		if !ok || !p.byte(':') {
			return c, false
		}
		p.space()
		if p.i < len(p.b) && p.b[p.i] == '"' {
			s, ok := p.string()
			if !ok {
				return c, false
			}
			c.strings[key] = s
		} else {
			n, ok := p.integer()
			if !ok {
				return c, false
			}
			c.numbers[key] = n
		}
		if p.byte('}') {
			return c, p.end()
		}
		if !p.byte(',') {
			return c, false
		}
	}
}

type scanner struct {
	b []byte
	i int
}

func (p *scanner) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

// byte skips space and then c, reporting whether c was there.
func (p *scanner) byte(c byte) bool {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *scanner) end() bool {
	p.space()
	return p.i == len(p.b)
}

// string reads a JSON string; it reports false for one with escapes other than
// \" \\ \/ (no member that Listen reads needs them).
func (p *scanner) string() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	var s []byte
	for p.i < len(p.b) {
		c := p.b[p.i]
		p.i++
		switch {
		case c == '"':
			return string(s), true
		case c == '\\' && p.i < len(p.b) && (p.b[p.i] == '"' || p.b[p.i] == '\\' || p.b[p.i] == '/'):
			s = append(s, p.b[p.i])
			p.i++
		case c == '\\' || c < 0x20:
			return "", false
		default:
			s = append(s, c)
		}
	}
	return "", false
}

// integer reads a non-negative JSON integer of at most 9 digits.
func (p *scanner) integer() (int, bool) {
	start, n := p.i, 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' && p.i-start < 9 {
		n = n*10 + int(p.b[p.i]-'0')
		p.i++
	}
	if p.i == start || (p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9') {
		return 0, false
	}
	return n, true
}
