package kernel

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
)

// ConnectionInfo is the content of the connection file that a Jupyter client writes
// and passes to the kernel with -f.
type ConnectionInfo struct {
	Transport       string `json:"transport"` // "tcp" or "ipc"
	IP              string `json:"ip"`        // for ipc, the path prefix of the socket files
	ShellPort       int    `json:"shell_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	ControlPort     int    `json:"control_port"`
	HBPort          int    `json:"hb_port"`
	SignatureScheme string `json:"signature_scheme"` // "hmac-sha256"; empty with an empty key
	Key             string `json:"key"`              // empty means unsigned messages
	KernelName      string `json:"kernel_name,omitempty"`
}

// ReadConnectionFile reads and checks a connection file.
func ReadConnectionFile(name string) (ConnectionInfo, error) {
	var c ConnectionInfo
	b, err := os.ReadFile(name)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("kernel: connection file %s: %w", name, err)
	}
	if err := c.check(); err != nil {
		return c, fmt.Errorf("kernel: connection file %s: %w", name, err)
	}
	return c, nil
}

func (c *ConnectionInfo) check() error {
	if c.Transport == "" {
		c.Transport = "tcp"
	}
	if c.Transport != "tcp" && c.Transport != "ipc" {
		return fmt.Errorf("unknown transport %q (want tcp or ipc)", c.Transport)
	}
	if c.IP == "" {
		if c.Transport == "ipc" {
			return fmt.Errorf("ipc transport needs ip (the socket path prefix)")
		}
		c.IP = "127.0.0.1"
	}
	if c.Key != "" && c.SignatureScheme != "hmac-sha256" {
		return fmt.Errorf("unsupported signature_scheme %q (want hmac-sha256)", c.SignatureScheme)
	}
	for _, p := range []int{c.ShellPort, c.IOPubPort, c.StdinPort, c.ControlPort, c.HBPort} {
		if p <= 0 || p > 65535 {
			return fmt.Errorf("port %d out of range", p)
		}
	}
	return nil
}

// listenAddr returns the network and address that the kernel's own sockets
// (socket.go) listen at for a port: "tcp" and IP:PORT, or "unix" and IP-PORT.
func (c ConnectionInfo) listenAddr(port int) (network, addr string) {
	if c.Transport == "ipc" {
		return "unix", fmt.Sprintf("%s-%d", c.IP, port)
	}
	ip := c.IP
	if ip == "*" {
		ip = "0.0.0.0"
	}
	return "tcp", net.JoinHostPort(ip, strconv.Itoa(port))
}

// warnings returns what is unsafe about serving c: an address other than a loopback
// one (anyone who can reach it can connect, and only the key keeps them out) and an
// empty key (anyone who can connect can run code).
func (c ConnectionInfo) warnings() []string {
	var w []string
	if c.Transport == "tcp" && !isLoopback(c.IP) {
		w = append(w, fmt.Sprintf("listening on %s, which is not a loopback address: other machines can connect to the kernel's ports", c.IP))
	}
	if c.Key == "" {
		w = append(w, "the connection file has an empty key: messages are not signed, and anyone who can connect to the kernel's ports can run code")
	}
	return w
}

// isLoopback reports whether ip names a loopback address ("localhost" included).
func isLoopback(ip string) bool {
	if ip == "localhost" {
		return true
	}
	a := net.ParseIP(ip)
	return a != nil && a.IsLoopback()
}
