// Package listenfirst makes `gocvx kernel -f FILE` listen on the ports of FILE
// before the rest of the command initializes (see package prebind): before the
// interpreter's symbol tables, the plotting and Markdown packages and the others,
// which took 5 to 40 ms depending on the machine's load, during which a client
// that connected was refused and waited for its reconnect interval. The command
// imports it through package kernelcmd; it imports nothing but os and prebind (not even
// strings, which waits for unicode's tables), so that its init function runs among
// the first: 28th of the command's 182 packages, after 1.5 ms on a quiet machine
// (GODEBUG=inittrace=1), where the last one, main, starts after 10 to 40 ms.
package listenfirst

import (
	"os"

	"github.com/gocvx/gocvx/kernel/prebind"
)

func init() {
	if file, ok := ConnectionFile(os.Args[1:]); ok {
		prebind.Listen(file)
	}
}

// ConnectionFile returns FILE if args (the command's arguments after its name)
// are `kernel -f FILE` in one of the forms that the kernel subcommand's flags
// accept (-f FILE, -f=FILE, --f FILE, --f=FILE).
func ConnectionFile(args []string) (string, bool) {
	if len(args) < 2 || args[0] != "kernel" {
		return "", false
	}
	flag := args[1]
	for i := 0; i < 2 && len(flag) > 0 && flag[0] == '-'; i++ {
		flag = flag[1:]
	}
	switch {
	case flag == args[1]:
		return "", false // not a flag
	case flag == "f" && len(args) == 3:
		return args[2], args[2] != ""
	case len(flag) > 2 && flag[:2] == "f=" && len(args) == 2:
		return flag[2:], true
	}
	return "", false
}
