package early

import (
	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/kernel/internal/wire"
)

// KernelInfoReply is the content of kernel_info_reply.
type KernelInfoReply struct {
	Status                string              `json:"status"`
	ProtocolVersion       string              `json:"protocol_version"`
	Implementation        string              `json:"implementation"`
	ImplementationVersion string              `json:"implementation_version"`
	LanguageInfo          cellio.LanguageInfo `json:"language_info"`
	Banner                string              `json:"banner"`
	Debugger              bool                `json:"debugger"`
	HelpLinks             []HelpLink          `json:"help_links"`
}

// HelpLink is one of the links a front end shows in its help menu.
type HelpLink struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// KernelInfo returns the kernel_info_reply content of a kernel of the given
// implementation version and banner: the one source of it for the early server
// and the kernel.
func KernelInfo(version, banner string) KernelInfoReply {
	return KernelInfoReply{
		Status:                "ok",
		ProtocolVersion:       wire.ProtocolVersion,
		Implementation:        "gocvx",
		ImplementationVersion: version,
		LanguageInfo:          cellio.Go(),
		Banner:                banner,
		HelpLinks: []HelpLink{
			{"Go documentation", "https://go.dev/doc/"},
			{"Go standard library", "https://pkg.go.dev/std"},
			{"gocvx", "https://github.com/gocvx/gocvx"},
		},
	}
}
